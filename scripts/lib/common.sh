# Helpers shared by scripts/infra.sh and scripts/ldap.sh (sourced, not run).
# The caller defines log() and die() with its own prefix.

port_open() {
  # bash's /dev/tcp: no nc/ss dependency, and `timeout` guards against a
  # half-dead listener that accepts SYNs but never completes the handshake.
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

render() { # template output key=value...
  local tmpl="$1" out="$2"; shift 2
  local args=() kv
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$tmpl" >"$out.tmp"
  mv "$out.tmp" "$out"
}

# Every command of a script serialises on one lock file (fd 9), so that two callers running
# `up` at once do not both start a server. Anything that daemonises must be started with
# `9>&-`, or it keeps the lock.
take_lock() { # dir timeout-seconds
  mkdir -p "$1"
  exec 9>"$1/lock"
  flock -w "$2" 9 || die "could not acquire $1/lock"
}

# SIGTERM, up to `timeout` seconds for a clean exit, then SIGKILL; removes the pid file.
stop_pid() { # label pid pid-file timeout-seconds
  local label="$1" pid="$2" pid_file="$3" timeout="$4" i
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < timeout * 10; i++ )); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$label $pid ignored SIGTERM for ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$pid_file"
}

#!/usr/bin/env bash
# A private OpenLDAP server (slapd) for the authz tests, without Docker.
#
# Usage: scripts/ldap.sh <command>
#   up      install slapd + ldap-utils if missing (apt-get, as root or with sudo -n),
#           then start our own slapd with a fresh test directory; no-op if it runs
#   down    stop that slapd (and only it) and wait until it has exited
#   status  show whether it runs (exit 0 only if it answers)
#   env     print LDAP_URL=... lines (up prints them too)
#
# The server: ldap://127.0.0.1:$AUTHZ_TEST_LDAP_PORT (default 13389), suffix
# dc=authz,dc=test, root DN cn=admin,dc=authz,dc=test (password admin-password),
# service account cn=authz-reader,ou=services,dc=authz,dc=test (reader-password),
# users under ou=people: alice/alice-password, bob/bob-password and one with
# LDAP special characters in her uid (see scripts/ldap/seed.ldif.tmpl).
#
# Everything lives under <repo>/.cache/ldap/ (config, mdb database, pid, log); the
# machine's own slapd configuration is neither used nor needed. Installing the package
# on a machine without it skips Debian's default directory (debconf
# slapd/no_configuration) and stops/disables the system service, which we never use.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPLATES="$ROOT/scripts/ldap"
LDAP_DIR="$ROOT/.cache/ldap"
DATA_DIR="$LDAP_DIR/data"
CONF="$LDAP_DIR/slapd.conf"
SEED="$LDAP_DIR/seed.ldif"
PID_FILE="$LDAP_DIR/slapd.pid"
URL_FILE="$LDAP_DIR/url"
LOG_FILE="$LDAP_DIR/slapd.log"

SLAPD=/usr/sbin/slapd
SUFFIX="dc=authz,dc=test"
ROOT_DN="cn=admin,$SUFFIX"
ROOT_PW="admin-password"
SERVICE_DN="cn=authz-reader,ou=services,$SUFFIX"
SERVICE_PW="reader-password"

START_TIMEOUT=30
STOP_TIMEOUT=30

log() { printf '[ldap] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

# ---------------------------------------------------------------- helpers

# The URL of the running (or last started) server; the port from the environment before that.
ldap_url() {
  local url; url="$(cat "$URL_FILE" 2>/dev/null || true)"
  echo "${url:-ldap://127.0.0.1:${AUTHZ_TEST_LDAP_PORT:-13389}}"
}
url_port() { local u="${1%/}"; echo "${u##*:}"; }

# A pid alone is not proof: only trust a slapd process running *our* slapd.conf.
is_our_slapd() {
  local pid="$1"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  local cmd; cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *slapd* && "$cmd" == *" -f $CONF "* ]]
}

slapd_pid() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if is_our_slapd "$pid"; then echo "$pid"; return 0; fi
  if [[ -f "$PID_FILE" ]]; then
    log "removing stale pid file (pid '${pid}' is not our slapd)"
    rm -f "$PID_FILE"
  fi
  return 1
}

answers() { # url: the directory is served, not just the port open
  ldapsearch -x -LLL -o nettimeout=2 -l 2 -H "$1" -D "$ROOT_DN" -w "$ROOT_PW" \
    -b "$SUFFIX" -s base dn >/dev/null 2>&1
}

# ---------------------------------------------------------------- install

installed() {
  [[ -x "$SLAPD" && -x /usr/sbin/slapadd && -x /usr/sbin/slappasswd && -x /usr/sbin/slaptest ]] \
    && command -v ldapsearch >/dev/null
}

as_root() {
  if (( EUID == 0 )); then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else die "slapd/ldap-utils are missing and this user cannot install them; as root run:
  DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils"
  fi
}

apt_install() {
  # stdout goes to stderr: callers parse our stdout for LDAP_URL=...
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 slapd ldap-utils </dev/null >&2 9>&-
}

# The package's postinst may start a system slapd on port 389 (not in containers, where
# policy-rc.d forbids it). We never use it: stop it and keep it from starting at boot.
disable_system_slapd() {
  if [[ -d /run/systemd/system ]]; then
    as_root systemctl disable --now slapd.service </dev/null >&2 2>&1 || true
    # Without a configuration (slapd/no_configuration) its start failed: don't leave that showing.
    as_root systemctl reset-failed slapd.service </dev/null >&2 2>&1 || true
  elif [[ -x /etc/init.d/slapd ]]; then
    as_root /etc/init.d/slapd stop </dev/null >&2 2>&1 9>&- || true
    as_root update-rc.d slapd disable </dev/null >&2 2>&1 || true
  fi
}

ensure_installed() {
  installed && return 0
  command -v apt-get >/dev/null || die "slapd is not installed and there is no apt-get here"
  log "installing slapd and ldap-utils with apt-get (once)"
  local fresh=false
  dpkg-query -W -f='${Status}' slapd 2>/dev/null | grep -q 'ok installed' || fresh=true
  if [[ "$fresh" == true ]]; then
    # Do not let the package create its default directory (dc=<your domain>) in /etc/ldap.
    echo 'slapd slapd/no_configuration boolean true' | as_root debconf-set-selections
  fi
  if ! apt_install; then
    log "apt-get install failed; running apt-get update and trying again"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2 9>&-
    apt_install || die "apt-get install slapd ldap-utils failed"
  fi
  [[ "$fresh" == true ]] && disable_system_slapd
  installed || die "slapd/ldap-utils installed, but $SLAPD, slapadd, slappasswd or ldapsearch is missing"
}

# ---------------------------------------------------------------- configure

hash() { /usr/sbin/slappasswd -h '{SSHA}' -s "$1"; }

# A fresh config and database on every start: tests always see exactly the seed.
configure() {
  mkdir -p "$LDAP_DIR"
  render "$TEMPLATES/slapd.conf.tmpl" "$CONF" \
    "LDAP_DIR=$LDAP_DIR" "SUFFIX=$SUFFIX" "ROOT_DN=$ROOT_DN" "SERVICE_DN=$SERVICE_DN" \
    "ROOT_PW_HASH=$(hash "$ROOT_PW")"
  render "$TEMPLATES/seed.ldif.tmpl" "$SEED" \
    "SUFFIX=$SUFFIX" "SERVICE_DN=$SERVICE_DN" \
    "SERVICE_HASH=$(hash "$SERVICE_PW")" \
    "ALICE_HASH=$(hash alice-password)" \
    "BOB_HASH=$(hash bob-password)" \
    "CAROL_HASH=$(hash carol-password)"
  rm -rf "$DATA_DIR"
  mkdir -p "$DATA_DIR"
  /usr/sbin/slaptest -Q -u -f "$CONF" >&2 || die "slaptest rejected $CONF"
  /usr/sbin/slapadd -q -f "$CONF" -l "$SEED" >&2 || die "slapadd could not load $SEED"
}

# ---------------------------------------------------------------- run

launch() {
  local url="$1"
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
  rm -f "$PID_FILE"
  echo "$url" >"$URL_FILE"
  # Foreground (-d) in its own session: the pid is exactly slapd's, its log goes to our
  # file instead of syslog, and it outlives this script. `9>&-`: it must not hold our lock.
  # The trailing space in " -f $CONF " is what is_our_slapd matches on.
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$SLAPD" -d "${AUTHZ_TEST_LDAP_DEBUG:-0}" -f "$CONF" -h "$url/" -n authz-test-slapd \
    </dev/null >"$LOG_FILE" 2>&1 9>&- &
  disown || true
  local i
  for i in $(seq 50); do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
  [[ -s "$PID_FILE" ]] || die "slapd launcher did not write $PID_FILE"
}

wait_ready() {
  local pid="$1" url="$2" deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    kill -0 "$pid" 2>/dev/null || { log "slapd $pid exited during startup"; return 1; }
    answers "$url" && return 0
    sleep 0.1
  done
  log "slapd not ready after ${START_TIMEOUT}s"
  return 1
}

print_env() {
  echo "LDAP_URL=$(ldap_url)"
  echo "LDAP_BASE_DN=$SUFFIX"
  echo "LDAP_BIND_DN=$SERVICE_DN"
  echo "LDAP_BIND_PASSWORD=$SERVICE_PW"
}

cmd_up() {
  local pid url
  if pid="$(slapd_pid)"; then
    url="$(ldap_url)"
    if answers "$url" || wait_ready "$pid" "$url"; then
      log "slapd already running (pid $pid, $url); nothing to do"
      print_env
      return 0
    fi
    log "slapd $pid does not answer; restarting it"
    stop_pid slapd "$pid" "$PID_FILE" "$STOP_TIMEOUT"
  fi

  ensure_installed
  url="ldap://127.0.0.1:${AUTHZ_TEST_LDAP_PORT:-13389}"
  ! port_open "$(url_port "$url")" || die "port $(url_port "$url") is in use by another process \
(not our slapd); free it, or pick another with AUTHZ_TEST_LDAP_PORT and run: $0 up"

  local start=$SECONDS
  configure
  log "starting slapd on $url"
  launch "$url"
  pid="$(cat "$PID_FILE")"
  if ! wait_ready "$pid" "$url"; then
    log "---- last 50 lines of $LOG_FILE ----"
    tail -n 50 "$LOG_FILE" >&2 || true
    stop_pid slapd "$pid" "$PID_FILE" "$STOP_TIMEOUT"
    die "slapd failed to start (config $CONF)"
  fi
  log "slapd ready in $((SECONDS - start))s (pid $pid)"
  print_env
}

cmd_down() {
  local pid
  if pid="$(slapd_pid)"; then
    log "stopping slapd (pid $pid)"
    stop_pid slapd "$pid" "$PID_FILE" "$STOP_TIMEOUT"
    log "slapd stopped"
  else
    log "slapd is not running"
  fi
}

cmd_status() {
  local pid url; url="$(ldap_url)"
  if pid="$(slapd_pid 2>/dev/null)"; then
    if answers "$url"; then echo "ldap: up (pid $pid, $url)"; return 0; fi
    echo "ldap: not answering (pid $pid, $url)"; return 3
  fi
  echo "ldap: down"; return 3
}

usage() {
  sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
  exit 64
}

main() {
  local cmd="${1:-}"
  [[ -n "$cmd" ]] || usage
  case "$cmd" in
    up|down) take_lock "$LDAP_DIR" 900 ;;
  esac
  case "$cmd" in
    up)     cmd_up ;;
    down)   cmd_down ;;
    status) cmd_status ;;
    env)    print_env ;;
    -h|--help|help) usage ;;
    *) log "unknown command '$cmd'"; usage ;;
  esac
}

main "$@"

#!/usr/bin/env bash
# Real infrastructure for the authz test suite, without Docker:
#   - PostgreSQL: the machine's own cluster on 127.0.0.1:5432 (trust auth).
#   - Kafka: a single-node KRaft broker run straight from Maven Central jars,
#     because Maven Central is the only place we can fetch Kafka from.
#
# Usage: scripts/infra.sh <command>
#   up           start PostgreSQL (if needed) + create test DBs, start Kafka
#   down         stop Kafka; stop PostgreSQL only if `up` had to start it
#   status       show what is running (exit 0 only if both are up)
#   env          print KAFKA_BROKERS=... and DATABASE_URL=... lines
#   kafka-stop   stop only the broker (tests use it to simulate an outage)
#   kafka-start  start only the broker again, same ports and data
#   reset-kafka  stop the broker and delete its data (re-formatted on next up)
#
# Environment:
#   AUTHZ_TEST_DATABASES              space-separated DB names (default: authz_test)
#   AUTHZ_TEST_KAFKA_PORT             broker port (default: 19092)
#   AUTHZ_TEST_KAFKA_CONTROLLER_PORT  KRaft controller port (default: 19093)
#   AUTHZ_TEST_KAFKA_TIMEOUT          seconds to wait for the broker (default: 180)
#
# Everything lives under <repo>/.cache/ (git-ignored).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPLATES="$ROOT/scripts/kafka"
CACHE="$ROOT/.cache"
INFRA_DIR="$CACHE/infra"
KAFKA_DIR="$CACHE/kafka"
LIBS_DIR="$KAFKA_DIR/libs"
DATA_DIR="$KAFKA_DIR/data"
LOG_DIR="$KAFKA_DIR/logs"
PID_FILE="$KAFKA_DIR/kafka.pid"
SERVER_PROPS="$KAFKA_DIR/server.properties"
LOG4J_PROPS="$KAFKA_DIR/log4j.properties"
SERVER_LOG="$LOG_DIR/server.log"
SERVER_OUT="$LOG_DIR/server.out"

KAFKA_VERSION=3.9.1
PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres

DATABASES="${AUTHZ_TEST_DATABASES:-authz_test}"
KAFKA_TIMEOUT="${AUTHZ_TEST_KAFKA_TIMEOUT:-180}"
PG_TIMEOUT=60
STOP_TIMEOUT=30

log() { printf '[infra] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

# ---------------------------------------------------------------- helpers

# Ports come from the rendered server.properties once it exists, so that
# kafka-start / status / down address the broker `up` configured even when
# the caller's environment differs.
prop() { sed -n "s/^$1=//p" "$SERVER_PROPS" 2>/dev/null | tail -n1; }
kafka_port() {
  local p; p="$(prop listeners | sed -n 's/.*PLAINTEXT:\/\/[^:]*:\([0-9]*\).*/\1/p')"
  echo "${p:-${AUTHZ_TEST_KAFKA_PORT:-19092}}"
}
kafka_ctl_port() {
  local p; p="$(prop listeners | sed -n 's/.*CONTROLLER:\/\/[^:]*:\([0-9]*\).*/\1/p')"
  echo "${p:-${AUTHZ_TEST_KAFKA_CONTROLLER_PORT:-19093}}"
}

# A pid alone is not proof: after a reboot the number may belong to anything.
# Only trust it if it is a java process running *our* server.properties.
is_our_broker() {
  local pid="$1"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  local cmd; cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *java* && "$cmd" == *kafka.Kafka* && "$cmd" == *"$SERVER_PROPS"* ]]
}

kafka_pid() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if is_our_broker "$pid"; then echo "$pid"; return 0; fi
  if [[ -f "$PID_FILE" ]]; then
    log "removing stale pid file (pid '${pid}' is not our broker)"
    rm -f "$PID_FILE"
  fi
  return 1
}

# ---------------------------------------------------------------- postgres

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }
pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n1; }

pg_up() {
  if ! pg_ready; then
    local ver; ver="$(pg_version)"
    [[ -n "$ver" ]] || die "PostgreSQL is not running and no cluster found in /etc/postgresql"
    log "starting PostgreSQL $ver/main"
    # The postmaster would inherit our lock fd (and hold it forever, blocking
    # every later call) and our stdout (hanging callers that capture it).
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start \
      </dev/null >&2 9>&-
    touch "$INFRA_DIR/pg.started"
    local waited=0
    until pg_ready; do
      (( waited++ < PG_TIMEOUT )) || die "PostgreSQL not ready after ${PG_TIMEOUT}s"
      sleep 1
    done
  fi
  log "PostgreSQL is up on $PG_HOST:$PG_PORT"

  local db
  for db in $DATABASES; do
    # Names are interpolated into SQL; refuse anything that needs quoting.
    [[ "$db" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "invalid database name '$db'"
    if [[ "$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
      log "creating database $db"
      psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE \"$db\""
    fi
  done
}

pg_down() {
  if [[ -f "$INFRA_DIR/pg.started" ]]; then
    local ver; ver="$(pg_version)"
    if pg_ready; then
      log "stopping PostgreSQL $ver/main (started by infra.sh up)"
      pg_ctlcluster --skip-systemctl-redirect "$ver" main stop </dev/null >&2 9>&-
    fi
    rm -f "$INFRA_DIR/pg.started"
  else
    log "leaving PostgreSQL as it is (infra.sh up did not start it)"
  fi
}

# ---------------------------------------------------------------- kafka: setup

kafka_fetch() {
  mkdir -p "$KAFKA_DIR"
  render "$TEMPLATES/pom.xml.tmpl" "$KAFKA_DIR/pom.xml" "KAFKA_VERSION=$KAFKA_VERSION"
  # The marker stores a hash of the pom, so editing the template re-fetches.
  local want; want="$(sha256sum "$KAFKA_DIR/pom.xml" | cut -d' ' -f1)"
  if [[ "$(cat "$LIBS_DIR/.fetched" 2>/dev/null || true)" == "$want" ]]; then
    return 0
  fi
  log "fetching Kafka $KAFKA_VERSION jars with Maven (first run can take a few minutes)"
  # copy-dependencies never deletes, so start clean to avoid mixed versions.
  rm -rf "$LIBS_DIR"
  # stdout goes to stderr: callers parse our stdout for KAFKA_BROKERS=...
  mvn -q -B -f "$KAFKA_DIR/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS_DIR" >&2
  # Fail here, not 3 minutes into a broker start, if a module went missing.
  javap -cp "$LIBS_DIR/*" kafka.Kafka kafka.tools.StorageTool \
    org.apache.kafka.tools.TopicCommand >/dev/null \
    || die "Kafka jars are incomplete (see $KAFKA_DIR/pom.xml)"
  echo "$want" >"$LIBS_DIR/.fetched"
}

kafka_configure() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  render "$TEMPLATES/server.properties.tmpl" "$SERVER_PROPS" \
    "PORT=${AUTHZ_TEST_KAFKA_PORT:-19092}" \
    "CTL_PORT=${AUTHZ_TEST_KAFKA_CONTROLLER_PORT:-19093}" \
    "DATA_DIR=$DATA_DIR"
  render "$TEMPLATES/log4j.properties.tmpl" "$LOG4J_PROPS" "LOG_FILE=$SERVER_LOG"
}

kafka_format() {
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(kafka_tool kafka.tools.StorageTool random-uuid)"
  log "formatting $DATA_DIR (cluster id $cluster_id)"
  kafka_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$SERVER_PROPS" >/dev/null
}

kafka_tool() {
  java -Xmx256m -Dlog4j.configuration="file:$LOG4J_PROPS" -cp "$LIBS_DIR/*" "$@"
}

# ---------------------------------------------------------------- kafka: run

kafka_launch() {
  # Keep the previous run's logs for post-mortems, and so the readiness check
  # below can't be fooled by an old "Kafka Server started" line.
  [[ -f "$SERVER_LOG" ]] && mv -f "$SERVER_LOG" "$SERVER_LOG.prev"
  [[ -f "$SERVER_OUT" ]] && mv -f "$SERVER_OUT" "$SERVER_OUT.prev"
  rm -f "$PID_FILE"

  # setsid: own session, so the broker outlives this script and a Ctrl-C in
  # the caller's terminal. The wrapper writes its own pid then execs java, so
  # the pid file is exactly the JVM's pid. `9>&-` keeps the broker from
  # inheriting our lock, which would otherwise block every later call.
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    java -Xms256m -Xmx768m \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError \
      -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$LOG4J_PROPS" \
      -cp "$LIBS_DIR/*" kafka.Kafka "$SERVER_PROPS" \
    </dev/null >"$SERVER_OUT" 2>&1 9>&- &
  disown || true

  local i
  for i in $(seq 50); do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
  [[ -s "$PID_FILE" ]] || die "broker launcher did not write $PID_FILE"
}

kafka_wait_ready() {
  local pid="$1" port="$2" deadline=$((SECONDS + KAFKA_TIMEOUT))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker process $pid exited during startup"
      return 1
    fi
    if grep -q "Kafka Server started" "$SERVER_LOG" 2>/dev/null && port_open "$port"; then
      return 0
    fi
    sleep 0.2
  done
  log "broker not ready after ${KAFKA_TIMEOUT}s"
  return 1
}

kafka_dump_logs() {
  log "---- last 50 lines of $SERVER_LOG ----"
  tail -n 50 "$SERVER_LOG" >&2 2>/dev/null || true
  if [[ -s "$SERVER_OUT" ]]; then
    log "---- last 50 lines of $SERVER_OUT ----"
    tail -n 50 "$SERVER_OUT" >&2 || true
  fi
}

# Sets KAFKA_STARTED=1 if this call launched a broker (vs. found one running).
# Not signalled via the return code: calling a function as `f || rc=$?`
# silently disables `set -e` inside it.
KAFKA_STARTED=0
kafka_start() {
  local port ctl_port pid
  port="$(kafka_port)"; ctl_port="$(kafka_ctl_port)"

  if pid="$(kafka_pid)"; then
    if port_open "$port"; then
      log "Kafka already running (pid $pid, 127.0.0.1:$port); nothing to do"
      return 0
    fi
    # Alive but not listening: probably still starting from another call.
    log "Kafka pid $pid is alive but port $port is closed; waiting for it"
    if kafka_wait_ready "$pid" "$port"; then return 0; fi
    log "existing broker never became ready; restarting it"
    kafka_stop_pid "$pid"
  fi

  local p
  for p in "$port" "$ctl_port"; do
    ! port_open "$p" || die "port $p is in use by another process (not our broker); \
free it, or pick other ports with AUTHZ_TEST_KAFKA_PORT / AUTHZ_TEST_KAFKA_CONTROLLER_PORT and run: $0 up"
  done

  local attempt start=$SECONDS
  for attempt in 1 2; do
    log "starting Kafka on 127.0.0.1:$port (attempt $attempt)"
    kafka_launch
    pid="$(cat "$PID_FILE")"
    if kafka_wait_ready "$pid" "$port"; then
      log "Kafka ready in $((SECONDS - start))s (pid $pid)"
      KAFKA_STARTED=1
      return 0
    fi
    kafka_dump_logs
    kafka_stop_pid "$pid"
  done
  die "Kafka failed to start twice; logs are in $LOG_DIR"
}

# Controlled shutdown of a single-node KRaft broker normally takes 1-5 s.
kafka_stop_pid() { stop_pid broker "$1" "$PID_FILE" "$STOP_TIMEOUT"; }

kafka_stop() {
  local pid
  if pid="$(kafka_pid)"; then
    log "stopping Kafka (pid $pid)"
    kafka_stop_pid "$pid"
    log "Kafka stopped"
  else
    log "Kafka is not running"
  fi
}

# ---------------------------------------------------------------- commands

print_env() {
  local first_db; first_db="${DATABASES%% *}"
  echo "KAFKA_BROKERS=127.0.0.1:$(kafka_port)"
  echo "DATABASE_URL=postgres://$PG_USER@$PG_HOST:$PG_PORT/$first_db"
}

cmd_up() {
  pg_up
  kafka_fetch
  if ! kafka_pid >/dev/null; then
    # Only re-render config while stopped: never change a running broker's
    # ports underneath it.
    kafka_configure
    kafka_format
  fi
  kafka_start
  # Lets `down` (and humans) know this broker was launched by `up`.
  if (( KAFKA_STARTED )); then date -Is >"$INFRA_DIR/kafka.started"; fi
  print_env
}

cmd_down() {
  kafka_stop
  rm -f "$INFRA_DIR/kafka.started"
  pg_down
}

cmd_status() {
  local ok=0 pid port
  if pg_ready; then
    echo "postgres: up ($PG_HOST:$PG_PORT)"
  else
    echo "postgres: down"; ok=3
  fi
  port="$(kafka_port)"
  if pid="$(kafka_pid 2>/dev/null)" && port_open "$port"; then
    echo "kafka: up (pid $pid, 127.0.0.1:$port)"
  elif [[ -n "${pid:-}" ]]; then
    echo "kafka: starting (pid $pid, port $port not open yet)"; ok=3
  else
    echo "kafka: down"; ok=3
  fi
  return "$ok"
}

cmd_kafka_start() {
  # Fast path for tests: assumes `up` already fetched, configured and
  # formatted; do those only if something is missing.
  [[ -f "$LIBS_DIR/.fetched" ]] || kafka_fetch
  [[ -f "$SERVER_PROPS" && -f "$LOG4J_PROPS" ]] || kafka_configure
  kafka_format
  kafka_start
}

cmd_reset_kafka() {
  kafka_stop
  rm -rf "$DATA_DIR"
  rm -f "$INFRA_DIR/kafka.started"
  log "deleted $DATA_DIR; it will be re-formatted on the next up"
}

usage() {
  sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
  exit 64
}

main() {
  local cmd="${1:-}"
  [[ -n "$cmd" ]] || usage
  case "$cmd" in
    up|down|kafka-start|kafka-stop|reset-kafka) take_lock "$INFRA_DIR" 600 ;;
  esac
  case "$cmd" in
    up)          cmd_up ;;
    down)        cmd_down ;;
    status)      cmd_status ;;
    env)         print_env ;;
    kafka-start) cmd_kafka_start ;;
    kafka-stop)  kafka_stop ;;
    reset-kafka) cmd_reset_kafka ;;
    -h|--help|help) usage ;;
    *) log "unknown command '$cmd'"; usage ;;
  esac
}

main "$@"

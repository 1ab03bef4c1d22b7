#!/usr/bin/env bash
# A private Keycloak (a real SAML 2.0 / OIDC identity provider) for the authz tests, without Docker.
#
# Usage: scripts/keycloak.sh <command>
#   up      fetch Keycloak with mvn into .cache/keycloak once, create its own PostgreSQL
#           database if missing, then start it; no-op if it already runs and answers
#   down    stop that Keycloak (and only it) and wait until it has exited
#   status  show whether it runs (exit 0 only if it answers)
#   env     print KEYCLOAK_URL=... lines (up prints them too)
#
# The server: http://127.0.0.1:$AUTHZ_TEST_KEYCLOAK_PORT (default 18080), Keycloak
# $AUTHZ_TEST_KEYCLOAK_VERSION (default 26.7.3, org.keycloak:keycloak-quarkus-dist from Maven
# Central), on a Java 21+ JDK found under /usr/lib/jvm (the Temurin 25 JDK beside Java 17)
# or $AUTHZ_TEST_KEYCLOAK_JAVA_HOME. Its data is the PostgreSQL database
# $AUTHZ_TEST_KEYCLOAK_DB (default authz_keycloak) on 127.0.0.1:5432 (user postgres); it is
# kept between runs, so tests create realms of their own (unique names) through the admin
# REST API (/admin/realms) with the bootstrap admin admin/admin-password of realm master.
#
# Everything else lives under <repo>/.cache/keycloak/ (distribution, pid, log).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KC_VERSION="${AUTHZ_TEST_KEYCLOAK_VERSION:-26.7.3}"
KC_DIR="$ROOT/.cache/keycloak"
DL_DIR="$KC_DIR/dl"
DIST_DIR="$KC_DIR/keycloak-$KC_VERSION"
PID_FILE="$KC_DIR/keycloak.pid"
URL_FILE="$KC_DIR/url"
LOG_FILE="$KC_DIR/keycloak.log"
DB_NAME="${AUTHZ_TEST_KEYCLOAK_DB:-authz_keycloak}"
PG_HOST=127.0.0.1
PG_PORT=5432

ADMIN_USER=admin
ADMIN_PW=admin-password

START_TIMEOUT="${AUTHZ_TEST_KEYCLOAK_START_TIMEOUT:-240}"
STOP_TIMEOUT=30

log() { printf '[keycloak] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

# ---------------------------------------------------------------- helpers

kc_url() {
  local url; url="$(cat "$URL_FILE" 2>/dev/null || true)"
  echo "${url:-http://127.0.0.1:${AUTHZ_TEST_KEYCLOAK_PORT:-18080}}"
}
url_port() { local u="${1%/}"; echo "${u##*:}"; }

# A pid alone is not proof: only trust *our* distribution's kc.sh (which runs the JVM as its
# child and forwards SIGTERM to it) or its JVM (what kc.sh execs after a first-start build).
is_our_keycloak() {
  local pid="$1"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  local cmd; cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *" $DIST_DIR/bin/kc.sh start "* ]] && return 0
  [[ "$cmd" == *java* && "$cmd" == *"$DIST_DIR"* ]]
}

keycloak_pid() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if is_our_keycloak "$pid"; then echo "$pid"; return 0; fi
  if [[ -f "$PID_FILE" ]]; then
    log "removing stale pid file (pid '${pid}' is not our keycloak)"
    rm -f "$PID_FILE"
  fi
  return 1
}

answers() { # url: the master realm is served, not just the port open
  curl -fsS -o /dev/null --max-time 3 "$1/realms/master/.well-known/openid-configuration" 2>/dev/null
}

# ---------------------------------------------------------------- install

java_home() {
  if [[ -n "${AUTHZ_TEST_KEYCLOAK_JAVA_HOME:-}" ]]; then echo "$AUTHZ_TEST_KEYCLOAK_JAVA_HOME"; return 0; fi
  local d v
  for d in /usr/lib/jvm/temurin-*-jdk* /usr/lib/jvm/*; do
    [[ -x "$d/bin/java" ]] || continue
    v="$("$d/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
    if [[ -n "$v" ]] && (( v >= 21 )); then echo "$d"; return 0; fi
  done
  return 1
}

ensure_fetched() {
  [[ -x "$DIST_DIR/bin/kc.sh" ]] && return 0
  command -v mvn >/dev/null || die "mvn is needed to fetch Keycloak (org.keycloak:keycloak-quarkus-dist:$KC_VERSION)"
  command -v unzip >/dev/null || die "unzip is needed to unpack Keycloak"
  local zip="$DL_DIR/keycloak-quarkus-dist-$KC_VERSION.zip"
  if [[ ! -s "$zip" ]]; then
    log "fetching org.keycloak:keycloak-quarkus-dist:$KC_VERSION with mvn (once)"
    mkdir -p "$DL_DIR"
    mvn -q -B dependency:copy "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip" \
      "-DoutputDirectory=$DL_DIR" </dev/null >&2 9>&- || die "mvn could not fetch Keycloak $KC_VERSION"
  fi
  log "unpacking $zip"
  rm -rf "$KC_DIR/unpack"
  mkdir -p "$KC_DIR/unpack"
  unzip -q "$zip" -d "$KC_DIR/unpack" || die "could not unzip $zip"
  [[ -x "$KC_DIR/unpack/keycloak-$KC_VERSION/bin/kc.sh" ]] || die "no keycloak-$KC_VERSION/bin/kc.sh in $zip"
  rm -rf "$DIST_DIR"
  mv "$KC_DIR/unpack/keycloak-$KC_VERSION" "$DIST_DIR"
  rm -rf "$KC_DIR/unpack"
}

psql_admin() { psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

ensure_database() {
  command -v psql >/dev/null || die "psql is needed to create Keycloak's database"
  psql_admin -c 'select 1' >/dev/null 2>&1 || die "PostgreSQL does not answer on $PG_HOST:$PG_PORT"
  if [[ "$(psql_admin -c "select 1 from pg_database where datname = '$DB_NAME'")" != 1 ]]; then
    log "creating PostgreSQL database $DB_NAME"
    psql_admin -c "create database \"$DB_NAME\"" >/dev/null
  fi
}

# ---------------------------------------------------------------- run

launch() {
  local url="$1" port jh
  port="$(url_port "$url")"
  jh="$(java_home)" || die "Keycloak needs Java 21+: no such JDK under /usr/lib/jvm (set AUTHZ_TEST_KEYCLOAK_JAVA_HOME)"
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
  rm -f "$PID_FILE"
  echo "$url" >"$URL_FILE"
  # In its own session: it outlives this script. The pid written by the launcher is kc.sh's:
  # it runs the JVM as a child, forwards SIGTERM to it and exits when it has (after a build
  # on first start it execs the JVM instead, same pid). `9>&-`: it must not hold our lock.
  setsid nohup env JAVA_HOME="$jh" PATH="$jh/bin:$PATH" \
    KC_BOOTSTRAP_ADMIN_USERNAME="$ADMIN_USER" KC_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PW" \
    bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$DIST_DIR/bin/kc.sh" start --db postgres \
    --db-url "jdbc:postgresql://$PG_HOST:$PG_PORT/$DB_NAME" --db-username postgres --db-password x \
    --http-enabled true --http-host 127.0.0.1 --http-port "$port" \
    --hostname-strict false --cache local \
    </dev/null >"$LOG_FILE" 2>&1 9>&- &
  disown || true
  local i
  for i in $(seq 50); do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
  [[ -s "$PID_FILE" ]] || die "keycloak launcher did not write $PID_FILE"
}

wait_ready() {
  local pid="$1" url="$2" deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    kill -0 "$pid" 2>/dev/null || { log "keycloak $pid exited during startup"; return 1; }
    answers "$url" && return 0
    sleep 0.5
  done
  log "keycloak not ready after ${START_TIMEOUT}s"
  return 1
}

print_env() {
  echo "KEYCLOAK_URL=$(kc_url)"
  echo "KEYCLOAK_ADMIN_USER=$ADMIN_USER"
  echo "KEYCLOAK_ADMIN_PASSWORD=$ADMIN_PW"
}

cmd_up() {
  local pid url
  if pid="$(keycloak_pid)"; then
    url="$(kc_url)"
    if answers "$url" || wait_ready "$pid" "$url"; then
      log "keycloak already running (pid $pid, $url); nothing to do"
      print_env
      return 0
    fi
    log "keycloak $pid does not answer; restarting it"
    stop_pid keycloak "$pid" "$PID_FILE" "$STOP_TIMEOUT"
  fi

  ensure_fetched
  ensure_database
  url="http://127.0.0.1:${AUTHZ_TEST_KEYCLOAK_PORT:-18080}"
  ! port_open "$(url_port "$url")" || die "port $(url_port "$url") is in use by another process \
(not our keycloak); free it, or pick another with AUTHZ_TEST_KEYCLOAK_PORT and run: $0 up"

  local start=$SECONDS
  log "starting keycloak $KC_VERSION on $url (database $DB_NAME)"
  launch "$url"
  pid="$(cat "$PID_FILE")"
  if ! wait_ready "$pid" "$url"; then
    log "---- last 50 lines of $LOG_FILE ----"
    tail -n 50 "$LOG_FILE" >&2 || true
    stop_pid keycloak "$pid" "$PID_FILE" "$STOP_TIMEOUT"
    die "keycloak failed to start (log $LOG_FILE)"
  fi
  log "keycloak ready in $((SECONDS - start))s (pid $pid)"
  print_env
}

cmd_down() {
  local pid
  if pid="$(keycloak_pid)"; then
    log "stopping keycloak (pid $pid)"
    stop_pid keycloak "$pid" "$PID_FILE" "$STOP_TIMEOUT"
    log "keycloak stopped"
  else
    log "keycloak is not running"
  fi
}

cmd_status() {
  local pid url; url="$(kc_url)"
  if pid="$(keycloak_pid 2>/dev/null)"; then
    if answers "$url"; then echo "keycloak: up (pid $pid, $url)"; return 0; fi
    echo "keycloak: not answering (pid $pid, $url)"; return 3
  fi
  echo "keycloak: down"; return 3
}

usage() {
  sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
  exit 64
}

main() {
  local cmd="${1:-}"
  [[ -n "$cmd" ]] || usage
  case "$cmd" in
    up|down) take_lock "$KC_DIR" 900 ;;
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

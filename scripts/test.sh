#!/usr/bin/env bash
# The whole test suite against real servers: unit, then integration and e2e on the machine's
# PostgreSQL, a Kafka broker that scripts/infra.sh starts, an OpenLDAP server that
# scripts/ldap.sh starts and a Keycloak (SAML 2.0 IdP) that scripts/keycloak.sh starts (each
# stopped again if this run started it), and a headless Chromium for the browser suites.
# Extra arguments go to Jest, e.g. `npm test -- --selectProjects unit`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install.sh
npm run --silent build
npm run --silent lint:deps

# Servers this run starts are stopped again when it ends, however it ends.
teardown=''
trap 'eval "$teardown"' EXIT

kafka_was_up=false
if bash scripts/infra.sh status >/dev/null 2>&1; then kafka_was_up=true; fi
if [ "$kafka_was_up" = false ]; then teardown+='bash scripts/infra.sh down; '; fi
eval "$(bash scripts/infra.sh up)"

# A private OpenLDAP (slapd) for the LDAP user directory; installed with apt-get on first use.
ldap_was_up=false
if bash scripts/ldap.sh status >/dev/null 2>&1; then ldap_was_up=true; fi
if [ "$ldap_was_up" = false ]; then teardown+='bash scripts/ldap.sh down; '; fi
eval "$(bash scripts/ldap.sh up)"

# A private Keycloak, the real SAML 2.0 IdP of the SSO tests; fetched with mvn on first use.
keycloak_was_up=false
if bash scripts/keycloak.sh status >/dev/null 2>&1; then keycloak_was_up=true; fi
if [ "$keycloak_was_up" = false ]; then teardown+='bash scripts/keycloak.sh down; '; fi
eval "$(bash scripts/keycloak.sh up)"

# One headless Chromium (Debian's package, installed with apt-get on first use) for the browser
# suites, which connect to it; it goes when this run ends (its stdin is this shell's pipe).
mkdir -p .cache/browser
chromium_path="$(bash scripts/chromium.sh)"
exec 8> >(node scripts/browser-server.mjs "$chromium_path" > .cache/browser/endpoint 2> .cache/browser/log)
teardown+='exec 8>&-; '
for _ in $(seq 1 300); do
  if grep -q '^ws://' .cache/browser/endpoint 2>/dev/null; then break; fi
  sleep 0.1
done
grep -q '^ws://' .cache/browser/endpoint || { cat .cache/browser/log >&2; echo '[chromium] the browser server did not start' >&2; exit 1; }
export AUTHZ_TEST_BROWSER_WS="$(head -n1 .cache/browser/endpoint)"
echo "[chromium] $("$chromium_path" --version 2>/dev/null) at $AUTHZ_TEST_BROWSER_WS" >&2

export AUTHZ_TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
export AUTHZ_TEST_LDAP_URL="$LDAP_URL" AUTHZ_TEST_LDAP_BASE_DN="$LDAP_BASE_DN"
export AUTHZ_TEST_LDAP_BIND_DN="$LDAP_BIND_DN" AUTHZ_TEST_LDAP_BIND_PASSWORD="$LDAP_BIND_PASSWORD"
export AUTHZ_TEST_KEYCLOAK_URL="$KEYCLOAK_URL"
export AUTHZ_TEST_KEYCLOAK_ADMIN_USER="$KEYCLOAK_ADMIN_USER" AUTHZ_TEST_KEYCLOAK_ADMIN_PASSWORD="$KEYCLOAK_ADMIN_PASSWORD"
export AUTHZ_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
# Suites share one broker and stop it on purpose (outage tests): run them one at a time.
# --forceExit: kafkajs leaves retry timers behind after disconnect; a CI run must not hang on them.
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --runInBand --forceExit "$@"

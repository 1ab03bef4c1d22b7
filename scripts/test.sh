#!/usr/bin/env bash
# The whole test suite against real servers: unit, then integration and e2e on the machine's
# PostgreSQL and a Kafka broker that scripts/infra.sh starts (and stops again if it started it).
# Extra arguments go to Jest, e.g. `npm test -- --selectProjects unit`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install.sh
npm run --silent build
npm run --silent lint:deps

kafka_was_up=false
if bash scripts/infra.sh status >/dev/null 2>&1; then kafka_was_up=true; fi
eval "$(bash scripts/infra.sh up)"
if [ "$kafka_was_up" = false ]; then trap 'bash scripts/infra.sh down' EXIT; fi

export AUTHZ_TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
export AUTHZ_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
# Suites share one broker and stop it on purpose (outage tests): run them one at a time.
# --forceExit: kafkajs leaves retry timers behind after disconnect; a CI run must not hang on them.
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --runInBand --forceExit "$@"

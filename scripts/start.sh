#!/usr/bin/env bash
# Starts one authz-server node. Without AUTHZ_DATABASE_URL / AUTHZ_KAFKA_BROKERS it runs in
# embedded mode (PGlite under ./.authz-data, in-process events): nothing else to install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
npm run --silent build
exec node dist/apps/authz-server/src/main.js "$@"

#!/usr/bin/env bash
# Starts one authz-server node. Without AUTHZ_DATABASE_URL / AUTHZ_KAFKA_BROKERS it runs in
# embedded mode (PGlite under ./.authz-data, in-process events): nothing else to install.
# dist/ is built only when the sources changed, into a new folder that replaces it whole.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
# Not `npm run build`: that rewrites dist/ in place, under a server or `npx authz` running from it.
bash scripts/build-dist.sh
exec node dist/apps/authz-server/src/main.js "$@"

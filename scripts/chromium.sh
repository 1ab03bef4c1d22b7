#!/usr/bin/env bash
# Debian's Chromium for the browser tests (they drive it with playwright-core, which
# downloads no browser of its own).
#
# Usage: scripts/chromium.sh
#   installs chromium (and a font, so that screenshots show text) with apt-get if it is
#   missing, as root or with sudo -n; checks that it starts; prints its path on stdout
#   and nothing else, so that `AUTHZ_TEST_CHROMIUM="$(bash scripts/chromium.sh)"` works.
# AUTHZ_TEST_CHROMIUM, when set, names the executable to use instead (nothing is installed).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK_DIR="$ROOT/.cache/chromium"

log() { printf '[chromium] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

as_root() {
  if (( EUID == 0 )); then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else die "chromium is missing and this user cannot install it; as root run:
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-liberation"
  fi
}

apt_install() {
  # Its output goes to stderr: callers read our stdout for the path.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 chromium fonts-liberation </dev/null >&2 9>&-
}

if [[ -n "${AUTHZ_TEST_CHROMIUM:-}" ]]; then
  [[ -x "$AUTHZ_TEST_CHROMIUM" ]] || die "AUTHZ_TEST_CHROMIUM=$AUTHZ_TEST_CHROMIUM is not an executable"
  path="$AUTHZ_TEST_CHROMIUM"
else
  # Two test runs starting at once must not both run apt-get.
  take_lock "$LOCK_DIR" 600
  if ! command -v chromium >/dev/null; then
    command -v apt-get >/dev/null || die "chromium is not installed and there is no apt-get here"
    log "installing chromium with apt-get (once)"
    if ! apt_install; then
      # A fresh machine's package lists may be missing or stale.
      log "apt-get install failed; running apt-get update and trying again"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2 9>&-
      apt_install || die "apt-get install chromium failed"
    fi
  fi
  path="$(command -v chromium)" || die "chromium was installed, but there is no chromium on PATH"
fi

# Debian's wrapper script prints a harmless shell warning on some machines: only the exit code counts.
"$path" --version >/dev/null 2>&1 </dev/null 9>&- || die "$path --version failed"
echo "$path"

#!/usr/bin/env bash
# Builds dist/ for `npm start` without pulling it from under a running server or CLI:
#   - nothing is built when dist/ is up to date: no file of apps/, libs/, bench/, tsconfig*.json,
#     package.json or package-lock.json changed since the last build made here started, and
#     nothing rewrote dist/ since it ended (`npm run build` writes in place and leaves no stamp);
#   - otherwise the build goes to a new folder beside dist/, and only a complete one takes its
#     place, by rename: a process starting meanwhile reads the old tree or the new one, never a
#     half-written one (between the two renames, microseconds, there is no dist/ at all: coreutils
#     has no portable atomic exchange of two directories). The old tree is then deleted; a running
#     process has read its modules already (nothing is imported lazily).
# `npm run build` itself is unchanged: other tooling (the tests, the bench) uses it.
#
# Usage: scripts/build-dist.sh [target]   (default: dist, in the repository)
# Prints what it did on stderr; exits non-zero, leaving the target as it was, if the build fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target="${1:-dist}"
parent="$(dirname "$target")"
name="$(basename "$target")"
mkdir -p "$parent"
target="$(cd "$parent" && pwd)/$name"
started_stamp="$target/.build-started"
done_stamp="$target/.build-done"

say() { echo "build-dist: $*" >&2; }

# Builds made here at the same time (two `npm start`) take turns; the second finds dist/ up to date.
lock_dir=".cache"
mkdir -p "$lock_dir"
exec 8>"$lock_dir/build-dist.lock"
flock -w 600 8 || { say "another build holds $lock_dir/build-dist.lock"; exit 1; }

up_to_date() {
  [ -f "$started_stamp" ] && [ -f "$done_stamp" ] || return 1
  # A source changed since the last build began (files or folders: a deleted file changes its folder).
  local changed
  changed="$(find apps libs bench \( -name node_modules -o -name dist \) -prune -o -newer "$started_stamp" -print -quit 2>/dev/null)"
  [ -z "$changed" ] || return 1
  for file in tsconfig*.json package.json package-lock.json; do
    [ -e "$file" ] && [ "$file" -nt "$started_stamp" ] && return 1
  done
  # dist/ rewritten in place since (npm run build, tsc -w …): trust it no more.
  changed="$(find "$target" -mindepth 1 -newer "$done_stamp" ! -name .build-done -print -quit)"
  [ -z "$changed" ]
}

# Under the lock no other build runs: what a killed one left beside the target goes.
rm -rf "$parent/.$name.build."* "$parent/.$name.old."*

if up_to_date; then
  say "$target is up to date with the sources: not rebuilt"
  exit 0
fi

build="$(mktemp -d "$parent/.$name.build.XXXXXX")"
trap 'rm -rf "$build"' EXIT
trap 'exit 130' INT TERM # so that the EXIT trap removes the half-built folder
chmod "$(printf '%o' $((0777 & ~0$(umask))))" "$build" # mktemp makes it 0700; dist/ is as readable as any folder
# The stamp of the sources this build reads: taken before it reads them, so that a change made
# while it runs makes the next start build again.
touch "$build/.build-started"
say "building into $build (then it replaces $target)"
npx --no-install tsc -p tsconfig.build.json --outDir "$build"
npx --no-install tsc-alias -p tsconfig.build.json --outDir "$build"
touch "$build/.build-done"

old="$parent/.$name.old.$$"
if [ -e "$target" ]; then mv "$target" "$old"; fi
mv "$build" "$target"
trap - EXIT
rm -rf "$old"
say "built $target"

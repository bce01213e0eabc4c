#!/usr/bin/env bash
# NestJS 12 smoke test: pack the built package, install the tarball here (beside Nest 12),
# and run smoke.cjs. Usage: bash smoke/nest12/run.sh  (SMOKE_SKIP_BUILD=1 if dist/ is fresh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ "${SMOKE_SKIP_BUILD:-0}" != "1" ]; then
  (cd "$root" && npm run build --silent)
fi
[ -f "$root/dist/lib/index.js" ] || { echo "smoke: $root/dist/lib/index.js missing: run npm run build" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && npm pack --silent --pack-destination "$tmp" >/dev/null)
tgz="$(ls "$tmp"/nestjs-taskflow-*.tgz)"
echo "smoke: packed $(basename "$tgz") ($(tar -tzf "$tgz" | wc -l) files)"

cd "$here"
# Nest 12 and friends exactly as locked in package-lock.json, then the tarball without touching
# package.json or the lockfile (its integrity changes with every build).
npm ci --no-audit --no-fund --loglevel=error
npm install --no-save --no-audit --no-fund --loglevel=error "$tgz"
node smoke.cjs

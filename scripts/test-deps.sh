#!/bin/sh
# What the browser test needs besides Chromium (a system package, scripts/system-deps.sh):
# axe-core, the accessibility checker, pinned, from npm into .test-cache/ (not in git).
set -e
AXE_VERSION=4.14.1
cd "$(dirname "$0")/.."
if [ -f .test-cache/node_modules/axe-core/axe.min.js ] && \
   grep -q "\"version\": \"$AXE_VERSION\"" .test-cache/node_modules/axe-core/package.json; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: install it (scripts/system-deps.sh does, as root)" >&2
  exit 1
fi
mkdir -p .test-cache
npm install --silent --no-audit --no-fund --prefix .test-cache "axe-core@$AXE_VERSION"

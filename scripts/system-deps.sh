#!/bin/sh
# System packages newsletter-pdf needs besides Python ones (Debian/Ubuntu names):
#   libpango-1.0-0 libpangoft2-1.0-0  - WeasyPrint's text layout (present on most systems)
#   libharfbuzz-subset0               - font subsetting: PDF writing about 3x faster
#   poppler-utils                     - pdftoppm, for the README thumbnails and page checks
#   chromium                          - the web edition's browser test (headless, axe-core)
#   npm                               - fetches axe-core for that test (scripts/test-deps.sh)
# Installs what is missing when run as root with apt-get; otherwise says what to install.
set -e
PKGS="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils chromium"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm may come with a nodejs package from elsewhere (e.g. NodeSource): any npm will do.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing system packages:$missing"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
  echo "installing system packages with sudo:$missing"
  sudo apt-get update -qq >/dev/null
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
  echo "please install these system packages:$missing" >&2
  exit 1
fi

#!/usr/bin/env bash
# Install the Debian packages alscell needs, where missing. Needs root for apt; does nothing when all
# is present.
#
#   scripts/ensure-system-packages.sh report   the PDF report (WeasyPrint: Pango, HarfBuzz subsetting,
#                                              a font), for `make demo`
#   scripts/ensure-system-packages.sh test     the above, plus a PostgreSQL server (the tests start their
#                                              own on 127.0.0.1 as the postgres user), Chromium (the
#                                              browser tests drive /usr/bin/chromium with Playwright; its
#                                              own browser download is never used) and poppler-utils
#                                              (the report tests turn PDF pages into PNG with pdftoppm)
set -euo pipefail

mode="${1:-test}"
missing=()
has_lib() { ldconfig -p 2>/dev/null | grep -q "$1" || ls /usr/lib/*/"$1"* >/dev/null 2>&1; }

has_lib libpango-1.0.so.0 || missing+=(libpango-1.0-0)
has_lib libpangoft2-1.0.so.0 || missing+=(libpangoft2-1.0-0)
has_lib libharfbuzz-subset.so.0 || missing+=(libharfbuzz-subset0)
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
if [ "$mode" = test ]; then
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    id postgres >/dev/null 2>&1 || missing+=(postgresql)
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $(printf "%s\n" "${missing[@]}" | sort -u) >/dev/null

#!/usr/bin/env bash
# Renders an SVG chart or an HTML report to PNG with headless Chromium (Debian package `chromium`).
# Usage: scripts/screenshot.sh FILE.svg|FILE.html OUT.png [WIDTHxHEIGHT]   (window default 760x480;
#        use 1100x3000 for a report.html)
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 FILE.svg|FILE.html OUT.png [WIDTHxHEIGHT]" >&2
    exit 2
fi
svg=$1
out=$2
size=${3:-760x480}
[ -f "$svg" ] || { echo "$0: no such file: $svg" >&2; exit 1; }

browser=""
for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
done
if [ -z "$browser" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "$0: installing chromium with apt-get" >&2
        apt-get install -y chromium >/dev/null
        browser=chromium
    else
        echo "$0: chromium not found; install it with: apt-get install -y chromium" >&2
        exit 1
    fi
fi

abs_svg=$(cd "$(dirname "$svg")" && pwd)/$(basename "$svg")
case "$out" in /*) abs_out=$out ;; *) abs_out=$(pwd)/$out ;; esac
# A throwaway profile directory so runs do not share state.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --disable-gpu --no-sandbox --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$abs_out" --window-size="${size/x/,}" "file://$abs_svg" >/dev/null 2>&1
[ -s "$abs_out" ] || { echo "$0: chromium wrote no image" >&2; exit 1; }
echo "$abs_out"

#!/usr/bin/env bash
# Renders `cohort report PATH` and photographs the page in headless Chromium, to
# check that it draws (inline SVG, no network) and to look at it.
#
#   scripts/report-screenshot.sh PATH [PNG]
#
# PATH is anything cohort report reads (a run directory, a scaling CSV, a directory
# of CSVs). The PNG (default: next to the HTML, same name) is 1400 px wide and tall
# enough for the page (REPORT_HEIGHT overrides). Prints the PNG's path; fails if
# Chromium is missing or writes nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: scripts/report-screenshot.sh PATH [PNG]" >&2; exit 2; }
path="$1"
cohort="$root/.build/release/cohort"
[ -x "$cohort" ] || (cd "$root" && swift build -c release --product cohort >/dev/null)
browser="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$browser" ] || { echo "report-screenshot.sh: no chromium; install it with: apt-get install -y chromium" >&2; exit 2; }

line="$("$cohort" report "$path")"            # "<kind> report: <file>"
kind="${line%% report:*}"
html="${line#*report: }"
png="${2:-${html%.html}.png}"
case "$kind" in
  tune) height="${REPORT_HEIGHT:-2700}" ;;
  *) height="${REPORT_HEIGHT:-1300}" ;;
esac
rm -f "$png"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="1400,$height" \
  --screenshot="$png" "file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")" >/dev/null 2>&1 || true
[ -s "$png" ] || { echo "report-screenshot.sh: chromium wrote no screenshot of $html" >&2; exit 1; }
echo "$png"

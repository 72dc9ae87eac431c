#!/usr/bin/env bash
# Pipeline-aware tuning measured: the Fashion-MNIST pipeline search
# (examples/pipeline-fashion.yaml: 256 configurations, standardise -> PCA -> random
# Fourier features -> softmax, successive halving over the classifier's epochs)
#   1. with reuse and without (trainable.reuse: false), on --workers workers: wall
#      time, speedup, and the chosen configuration and test accuracy of each;
#   2. with affinity and without, on 1, 2 and 4 workers (reuse on);
#   3. the run's trace of stage requests replayed through LRU, LFU and cost-aware
#      caches at three capacities, against the optimum of the integer program
#      (glpsol, from Debian's glpk-utils) on the first --requests requests.
#
#   scripts/bench/pipeline.sh [--repeats 3] [--baseline-repeats 1] [--workers 4] [--requests 60]
#                             [--affinity-workers "1 2 4"]   ("" skips part 2)
#
# Medians of --repeats runs (the baseline without reuse, about 6 minutes on 2 cores,
# --baseline-repeats times). Not part of the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
repeats=3 baseline_repeats=1 workers=4 requests=60 affinity_workers="1 2 4"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --baseline-repeats) baseline_repeats="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --affinity-workers) affinity_workers="$2"; shift 2 ;;
    *) echo "usage: $0 [--repeats N] [--baseline-repeats N] [--workers N] [--requests N] [--affinity-workers LIST]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh > /dev/null
[ -x .build/release/cohort ] || swift build -c release --product cohort
cohort=.build/release/cohort
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
base=examples/pipeline-fashion.yaml
sed -e 's/^  classifier: softmax/  classifier: softmax\n  reuse: false/' "$base" > "$tmp/plain.yaml"
sed -e 's/^space:/farm:\n  affinity: false\nspace:/' "$base" > "$tmp/noaffinity.yaml"

# Runs config $1 on $2 workers into $3; prints the wall seconds.
run() {
  local start end
  start="$(date +%s.%N)"
  scripts/mpirun.sh -np "$(( $2 + 1 ))" --oversubscribe "$cohort" tune --config "$1" --out "$3" --quiet > "$3.log" 2>&1 || { cat "$3.log" >&2; exit 1; }
  end="$(date +%s.%N)"
  # The shared cache of one run holds about 5 GB: keep only the journal.
  rm -rf "$3/cache" "$3/checkpoints"
  python3 -c "print(f'{$end - $start:.1f}')"
}
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(map(float, sys.argv[1:])):.1f}")' "$@"; }
best() {
  python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print("trial %d, validation %.4f, test %.4f" % (b["trial"], b["metric"], b["test_metric"]))' "$1/best.json"
}

echo "== reuse against none, $workers workers, $repeats and $baseline_repeats runs"
with=() without=()
for r in $(seq 1 "$repeats"); do
  with+=("$(run "$base" "$workers" "$tmp/reuse-$r")")
  echo "  reuse, run $r: ${with[-1]} s ($(best "$tmp/reuse-$r"))"
  if [ "$r" -le "$baseline_repeats" ]; then
    without+=("$(run "$tmp/plain.yaml" "$workers" "$tmp/plain-$r")")
    echo "  no reuse, run $r: ${without[-1]} s ($(best "$tmp/plain-$r"))"
  fi
done
mw="$(median "${with[@]}")"
if [ "${#without[@]}" -gt 0 ]; then
  mo="$(median "${without[@]}")"
  echo "  median: reuse $mw s, no reuse $mo s, speedup $(python3 -c "print(f'{$mo / $mw:.2f}')")x"
else
  echo "  median: reuse $mw s"
fi
"$cohort" report "$tmp/reuse-1" > /dev/null
python3 - "$tmp/reuse-1/report.html" <<'PY'
import re, sys
page = open(sys.argv[1]).read()
table = page[page.find('class="pipeline-reuse"'):]
table = table[:table.find("</table>")]
for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
    print("  " + "  ".join(re.sub("<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)))
PY

if [ -n "$affinity_workers" ]; then
  echo "== time to finish with and without affinity (reuse on), medians of $repeats"
  printf '  %-8s %12s %15s\n' workers affinity "no affinity"
  for w in $affinity_workers; do
    a=() n=()
    for r in $(seq 1 "$repeats"); do
      a+=("$(run "$base" "$w" "$tmp/aff-$w-$r")")
      n+=("$(run "$tmp/noaffinity.yaml" "$w" "$tmp/noaff-$w-$r")")
    done
    printf '  %-8s %11s s %14s s\n' "$w" "$(median "${a[@]}")" "$(median "${n[@]}")"
  done
fi

echo "== recompute seconds of the first $requests requests of the trace: policies against the optimum"
capacities=(300MB 600MB 1200MB)
args=()
for c in "${capacities[@]}"; do args+=(--capacity "$c"); done
"$cohort" bench cache-replay --run "$tmp/reuse-1" --requests "$requests" "${args[@]}" --lp-dir "$tmp/lp" | tee "$tmp/replay.txt"
for k in "${!capacities[@]}"; do
  glpsol --lp "$tmp/lp/capacity-$((k + 1)).lp" -o "$tmp/lp/capacity-$((k + 1)).out" --tmlim 300 > /dev/null
  python3 - "$tmp/lp/capacity-$((k + 1)).out" "${capacities[$k]}" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
cost = float(re.search(r"Objective:\s+cost = ([0-9.e+-]+)", out).group(1)) / 1000
status = re.search(r"Status:\s+(.+)", out).group(1).strip()
print(f"  optimum at {sys.argv[2]}: {cost:.3f} s ({status.lower()})")
PY
done

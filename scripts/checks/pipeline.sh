# Multi-process checks of pipeline searches (trainable type: pipeline), sourced by
# scripts/test.sh (which defines `check`, and `mpi`/`expect_error` in cluster.sh).

pipe_tmp="$(mktemp -d)"
cohort="$root/.build/release/cohort"

# The fields of best.json that must agree between two runs of one search.
pipe_best() { python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print(b["trial"], b["resource"], b["metric"], b["test_metric"])' "$1"; }

# The digits pipeline on 3 workers with reuse and without: both journals legal, the
# same best configuration and test accuracy, reuse visible in the journal (memory and
# disk hits) and in the report.
pipe_reuse() {
  sed -e 's/policy: lru/policy: lru\n  reuse: false/' examples/pipeline-digits.yaml > "$pipe_tmp/plain.yaml"
  mpi -np 4 cohort tune --config examples/pipeline-digits.yaml --out "$pipe_tmp/reuse" --quiet --no-fsync > "$pipe_tmp/reuse.log" &&
    mpi -np 4 cohort tune --config "$pipe_tmp/plain.yaml" --out "$pipe_tmp/plain" --quiet --no-fsync > "$pipe_tmp/plain.log" &&
    "$cohort" tune --audit --out "$pipe_tmp/reuse" && "$cohort" tune --audit --out "$pipe_tmp/plain" || return 1
  local a b
  a="$(pipe_best "$pipe_tmp/reuse/best.json")"; b="$(pipe_best "$pipe_tmp/plain/best.json")"
  echo "best with reuse: $a; without: $b"
  [ "$a" = "$b" ] || return 1
  python3 - "$pipe_tmp" <<'PY' || return 1
import json, sys
def sources(run):
    out = {0: 0, 1: 0, 2: 0}
    for e in map(json.loads, open(f"{sys.argv[1]}/{run}/events.jsonl")):
        for k, v in e.get("metrics", {}).items():
            if k.endswith(".source"): out[int(v)] += 1
    return out
r, p = sources("reuse"), sources("plain")
print(f"stage outputs computed / memory / disk: with reuse {r[0]} / {r[1]} / {r[2]}, without {p[0]} / {p[1]} / {p[2]}")
# 120 jobs x 3 stages without reuse; with reuse at most the 31 distinct outputs plus races.
sys.exit(0 if p[0] == 360 and p[1] == p[2] == 0 and r[0] < 60 and r[1] > 0 and r[2] > 0 else 1)
PY
  "$cohort" report "$pipe_tmp/reuse" > /dev/null && grep -q 'class="pipeline-reuse"' "$pipe_tmp/reuse/report.html"
}
check "pipeline: digits on 3 workers, reuse on and off: same best configuration and test accuracy, journals legal" pipe_reuse

# Affinity on and off choose the same configuration (it reorders equally ready
# promotions only).
pipe_affinity() {
  sed -e 's/^space:/farm:\n  affinity: false\nspace:/' examples/pipeline-digits.yaml > "$pipe_tmp/noaff.yaml"
  mpi -np 4 cohort tune --config "$pipe_tmp/noaff.yaml" --out "$pipe_tmp/noaff" --quiet --no-fsync > /dev/null &&
    "$cohort" tune --audit --out "$pipe_tmp/noaff" &&
    [ "$(pipe_best "$pipe_tmp/noaff/best.json")" = "$(pipe_best "$pipe_tmp/reuse/best.json")" ]
}
check "pipeline: affinity off gives the same best configuration" pipe_affinity

# SIGKILL of mpirun mid-search (once 60 results are journaled), then --resume: the
# journal is legal, no result is lost or repeated, and the best equals the
# uninterrupted run's. Larger random features make the run last long enough.
pipe_kill_resume() {
  sed -e 's/max_trials: 81/max_trials: 162/;s/low: 128, high: 1024, log: true, gridded: 3/low: 2048, high: 4096, log: true, gridded: 3/' \
    examples/pipeline-digits.yaml > "$pipe_tmp/slow.yaml"
  mpi -np 3 cohort tune --config "$pipe_tmp/slow.yaml" --out "$pipe_tmp/whole" --quiet --no-fsync > /dev/null || return 1
  scripts/mpirun.sh -np 3 cohort tune --config "$pipe_tmp/slow.yaml" --out "$pipe_tmp/killed" --quiet > /dev/null 2>&1 &
  local pid=$! i n
  for i in $(seq 1 600); do
    n="$(grep -c '"event":"result"' "$pipe_tmp/killed/events.jsonl" 2>/dev/null || true)"
    [ "${n:-0}" -ge 60 ] && break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  pkill -KILL -f "cohort tune --config $pipe_tmp/slow.yaml --out $pipe_tmp/killed" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if grep -q '"event":"end"' "$pipe_tmp/killed/events.jsonl"; then echo "run ended before the kill"; return 1; fi
  echo "killed after $(grep -c '"event":"result"' "$pipe_tmp/killed/events.jsonl") results"
  mpi -np 3 cohort tune --resume --out "$pipe_tmp/killed" --quiet > /dev/null &&
    "$cohort" tune --audit --out "$pipe_tmp/killed" &&
    [ "$(pipe_best "$pipe_tmp/whole/best.json")" = "$(pipe_best "$pipe_tmp/killed/best.json")" ] &&
    same_results "$pipe_tmp/whole" "$pipe_tmp/killed" "killed"
}
check "pipeline: SIGKILL mid-search, then --resume: nothing lost or repeated, the same result" pipe_kill_resume

# The policies replayed on the run's trace never beat the optimum glpsol finds.
pipe_optimum() {
  "$cohort" bench cache-replay --run "$pipe_tmp/reuse" --requests 40 --capacity 2MB --capacity 6MB --capacity 20MB \
    --lp-dir "$pipe_tmp/lp" > "$pipe_tmp/replay.txt" || return 1
  cat "$pipe_tmp/replay.txt"
  local k
  for k in 1 2 3; do glpsol --lp "$pipe_tmp/lp/capacity-$k.lp" -o "$pipe_tmp/lp/capacity-$k.out" --tmlim 60 > /dev/null || return 1; done
  python3 - "$pipe_tmp" <<'PY'
import re, sys
tmp = sys.argv[1]
lines = open(f"{tmp}/replay.txt").read().splitlines()
unbounded = float(re.search(r"unbounded cache: ([0-9.]+) s", lines[1]).group(1))
rows = [l.split() for l in lines[4:]]
ok = True
for k, row in enumerate(rows, 1):
    out = open(f"{tmp}/lp/capacity-{k}.out").read()
    optimum = float(re.search(r"Objective:\s+cost = ([0-9.e+-]+)", out).group(1)) / 1000
    bound = re.search(r"Status:\s+(\S+ \S+)", out).group(1)
    policies = [float(x) for x in row[2:]]
    print(f"capacity {row[0]} {row[1]}: lru {policies[0]:.3f}, lfu {policies[1]:.3f}, cost {policies[2]:.3f}; optimum {optimum:.3f} ({bound})")
    # An optimum (or any feasible solution glpsol reports as optimal) is no worse than a policy.
    if bound == "INTEGER OPTIMAL" and any(optimum > p + 1e-3 for p in policies): ok = False
    if optimum + 1e-3 < unbounded: ok = False
sys.exit(0 if ok else 1)
PY
}
check "pipeline: no caching policy beats the integer program's optimum on the run's trace" pipe_optimum

# Bad input: one line each, nothing written.
pipe_bad() { sed -e "$1" examples/pipeline-digits.yaml > "$pipe_tmp/bad.yaml"; }
pipe_bad 's/stages: \[standardize, pca, rff\]/stages: [standardize, pcaa, rff]/'
check "pipeline: a stage that does not exist" expect_error "trainable.stages\[1\]: unknown stage 'pcaa' (stages: standardize, pca, rff, poly; did you mean pca?)" \
  mpi -np 3 cohort tune --config "$pipe_tmp/bad.yaml" --out "$pipe_tmp/x"
pipe_bad 's/memory: 64MB/memory: plenty/'
check "pipeline: a cache capacity that is not a size" expect_error "trainable.cache.memory: must be a size such as 512MB or 2GiB, got 'plenty'" \
  "$cohort" tune --config "$pipe_tmp/bad.yaml" --out "$pipe_tmp/x"
pipe_bad 's/high: 40, gridded: 3/high: 40, gridded: 0/'
check "pipeline: a grid with no values" expect_error "space.pca.components.gridded: is 0: a grid needs at least one value" \
  "$cohort" tune --config "$pipe_tmp/bad.yaml" --out "$pipe_tmp/x"
check "pipeline: nothing written for bad input" test ! -e "$pipe_tmp/x"

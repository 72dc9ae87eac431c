# Multi-process checks of `cohort nas`, sourced by scripts/test.sh (which defines
# `check`; cluster.sh defines `mpi` and `expect_error`). Tiny searches on the embedded
# digits: ranks identical after every step, runs repeatable bit for bit, the job farm
# retraining under mpirun, and bad input reported once.

nas_tmp="$(mktemp -d)"
cohort="$root/.build/release/cohort"

# $1 = strategy, $2 = extra YAML lines under `search:` (indented by two spaces).
nas_config() {
  cat <<YAML
name: check-$1
seed: 2
dataset: digits
network: {channels: 4, cells: [1, 1]}
search:
  samples: 600
  epochs: 2
  batch_size: 32
  verify_every: 1
  record_every: 3
$2
strategy:
  type: $1
$( [ "$1" = rsws ] && printf '  architectures: 30\n  score_batches: 2\n  score_batch_size: 100\n  rescore_top: 4\n' )
$( [ "$1" = gaea ] && printf '  eta: 0.5\n' )
retrain:
  top: 2
  samples: 600
  epochs: 1
  batch_size: 32
YAML
}
for s in rsws gaea darts; do nas_config "$s" "" > "$nas_tmp/$s.yaml"; done
nas_config rsws "" | sed 's/batch_size: 32/batch_size: 2/' > "$nas_tmp/batch2.yaml"
sed 's/type: rsws/type: enas/' "$nas_tmp/rsws.yaml" > "$nas_tmp/enas.yaml"

# Every rank's supernet and architecture weights compared after every step.
nas_replicas() { # $1 = ranks, $2 = strategy, $3 = extra flags
  local out
  out="$(mpi -np "$1" cohort nas search --config "$nas_tmp/$2.yaml" --out "$nas_tmp/$2-np$1" --quiet ${3:-})" || return 1
  printf '%s\n' "$out" | grep -E '^(supernet:|chosen:|retrained|  validation)'
  printf '%s' "$out" | grep -q "on $1 rank(s), .*; replicas identical at all 19 checks"
}
check "nas: RSWS on 2 ranks, identical replicas every step, retraining on the job farm" nas_replicas 2 rsws
check "nas: RSWS on 4 ranks, identical replicas every step, retraining on the job farm" nas_replicas 4 rsws
check "nas: GAEA on 4 ranks, identical replicas every step" nas_replicas 4 gaea --skip-retrain
check "nas: DARTS on 2 ranks, identical replicas every step" nas_replicas 2 darts --skip-retrain

# The same seed and rank count: the same chosen cell and bit-identical architecture weights.
nas_repeat() {
  mpi -np 2 cohort nas search --config "$nas_tmp/gaea.yaml" --out "$nas_tmp/gaea-a" --quiet --skip-retrain > "$nas_tmp/gaea-a.log" &&
    mpi -np 2 cohort nas search --config "$nas_tmp/gaea.yaml" --out "$nas_tmp/gaea-b" --quiet --skip-retrain > "$nas_tmp/gaea-b.log" || return 1
  grep -E '^(chosen|architecture weights digest|supernet digest)' "$nas_tmp/gaea-a.log"
  cmp "$nas_tmp/gaea-a/architecture-weights.jsonl" "$nas_tmp/gaea-b/architecture-weights.jsonl" &&
    cmp "$nas_tmp/gaea-a/chosen.json" "$nas_tmp/gaea-b/chosen.json" &&
    [ "$(grep -E '^(chosen|architecture weights digest|supernet digest)' "$nas_tmp/gaea-a.log")" = \
      "$(grep -E '^(chosen|architecture weights digest|supernet digest)' "$nas_tmp/gaea-b.log")" ]
}
check "nas: GAEA twice with one seed on 2 ranks: same choice, identical architecture weights" nas_repeat

# Synchronised batch statistics: GAEA on 2 and 4 ranks chooses the same cell, and the
# supernet's and architecture's weights agree to float rounding.
nas_config gaea "  sync_batch_norm: true" > "$nas_tmp/gaea-sync.yaml"
nas_sync() {
  for n in 2 4; do
    mpi -np "$n" cohort nas search --config "$nas_tmp/gaea-sync.yaml" --out "$nas_tmp/sync-np$n" --quiet --skip-retrain \
      > "$nas_tmp/sync-np$n.log" || return 1
  done
  python3 - "$nas_tmp/sync-np2" "$nas_tmp/sync-np4" <<'PY'
import array, json, struct, sys
def tensors(path):
    data = open(path, "rb").read()
    (size,) = struct.unpack("<Q", data[:8])
    header, body = json.loads(data[8:8 + size]), data[8 + size:]
    out = {}
    for name, t in header.items():
        if name != "__metadata__" and t["dtype"] == "F32":
            a, b = t["data_offsets"]
            out[name] = array.array("f", body[a:b])
    return out
two, four = (tensors(f"{run}/supernet.safetensors") for run in sys.argv[1:])
weights = max(abs(x - y) for name in two for x, y in zip(two[name], four[name]))
chosen = [json.load(open(f"{run}/chosen.json")) for run in sys.argv[1:]]
arch = max(abs(x - y) for r, s in zip(chosen[0]["architecture_weights"], chosen[1]["architecture_weights"]) for x, y in zip(r, s))
same = chosen[0]["architecture"] == chosen[1]["architecture"] and set(two) == set(four)
print(f"2 and 4 ranks: same cell {same}, largest weight difference {weights:.2e}, architecture weights {arch:.2e}")
sys.exit(0 if same and weights < 1e-4 and arch < 1e-5 else 1)
PY
}
check "nas: GAEA with synchronised batch statistics on 2 and 4 ranks: same cell, weights equal to rounding" nas_sync

# Bad input: one line, non-zero exit.
nas_unknown_op='|conv_5x5~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|'
nas_bad_string='|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|'
nas_no_path='|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|none~2|'
check "nas: unknown operation" expect_error "unknown operation 'conv_5x5'" "$cohort" nas show --arch "$nas_unknown_op"
check "nas: unparsable architecture string" expect_error "does not parse: found 2 node groups" "$cohort" nas show --arch "$nas_bad_string"
check "nas: no path from input to output" expect_error "has no path from the cell input (node 0) to its output (node 3)" \
  "$cohort" nas show --arch "$nas_no_path"
check "nas: no path, under mpirun, reported once" expect_error "has no path from the cell input" \
  mpi -np 2 cohort nas retrain --config "$nas_tmp/rsws.yaml" --arch "$nas_no_path"
check "nas: batch smaller than the rank count" expect_error "search.batch_size (2) is smaller than the number of ranks (4)" \
  mpi -np 4 cohort nas search --config "$nas_tmp/batch2.yaml" --out "$nas_tmp/never"
check "nas: unknown strategy" expect_error "strategy.type: unknown value 'enas' (expected one of rsws, gaea, darts)" \
  "$cohort" nas search --config "$nas_tmp/enas.yaml" --out "$nas_tmp/never"

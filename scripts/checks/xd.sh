# Multi-process checks of `cohort xd`, sourced by scripts/test.sh (which defines
# `check`; cluster.sh defines `mpi` and `expect_error`). Tiny Burgers and permuted-digit
# comparisons: replicas identical under mpirun, one seed and rank count giving
# byte-identical summaries, a stopped run resumed to the same summary, and bad input
# reported once.

xd_tmp="$(mktemp -d)"
cohort="$root/.build/release/cohort"

cat > "$xd_tmp/burgers.yaml" <<'YAML'
name: check-xd-burgers
seed: 3
task: {type: burgers, train: 16, test: 8, grid: 64, resolution: 32, time: 0.5}
network: {width: 4, kernel: 5, layers: 2, modes: 4}
training: {epochs: 2, batch_size: 8, verify_every: 1}
YAML

xd_repeat() {
  mpi -np 2 cohort xd --config "$xd_tmp/burgers.yaml" --out "$xd_tmp/a" --quiet > "$xd_tmp/a.log" &&
    mpi -np 2 cohort xd --config "$xd_tmp/burgers.yaml" --out "$xd_tmp/b" --quiet > /dev/null || return 1
  cat "$xd_tmp/a.log"
  cmp "$xd_tmp/a/summary.json" "$xd_tmp/b/summary.json" && cmp "$xd_tmp/a/checkpoints/xd.safetensors" "$xd_tmp/b/checkpoints/xd.safetensors"
}
check "xd: Burgers on 2 ranks twice, replicas checked every step: byte-identical summaries and XD checkpoints" xd_repeat

xd_resume() {
  local out
  out="$(mpi -np 2 cohort xd --config "$xd_tmp/burgers.yaml" --out "$xd_tmp/cut" --quiet --stop-after-epochs 3)" || return 1
  printf '%s\n' "$out"
  printf '%s' "$out" | grep -q "continue with --resume" || return 1
  mpi -np 2 cohort xd --resume --out "$xd_tmp/cut" --quiet > /dev/null || return 1
  [ "$(grep -c '"event"' "$xd_tmp/cut/events.jsonl")" -eq 6 ] && cmp "$xd_tmp/a/summary.json" "$xd_tmp/cut/summary.json" && echo "resumed: summary identical, 6 epoch events"
}
check "xd: stopped after 3 of 6 epochs and resumed: the uninterrupted run's summary" xd_resume

xd_images() {
  local out
  cat > "$xd_tmp/images.yaml" <<'YAML'
name: check-xd-images
task: {type: permuted_images, dataset: fashion-mnist, train: 256, test: 128, side: 32}
training: {epochs: 1, batch_size: 32, verify_every: 4}
YAML
  out="$(mpi -np 2 cohort xd --config "$xd_tmp/images.yaml" --out "$xd_tmp/images" --quiet)" || return 1
  printf '%s\n' "$out"
  python3 - "$xd_tmp/images/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["metric"] == "accuracy" and set(s["results"]) == {"backbone", "xd", "backbone_unpermuted"}, s
assert all(0.1 < v <= 1 for v in s["results"].values()), s["results"]
assert s["parameters"]["xd"]["weights"] == s["parameters"]["backbone"]["weights"] and s["parameters"]["xd"]["architecture"] > 0
PY
}
check "xd: permuted Fashion-MNIST LeNet and its XD conversion on 2 ranks" xd_images

sed 's/kernel: 5/kernel: 41/' "$xd_tmp/burgers.yaml" > "$xd_tmp/big-kernel.yaml"
sed 's/resolution: 32/resolution: 24/' "$xd_tmp/burgers.yaml" > "$xd_tmp/not-pow2.yaml"
printf '0.1,0.2,0.3,0\n0.4,0.5,0.6,1\n0.7,0.8,0.9,0\n0.2,0.1,0.0,1\n' > "$xd_tmp/flat.csv"
printf 'task: {type: permuted_images, dataset: %s}\n' "$xd_tmp/flat.csv" > "$xd_tmp/flat-images.yaml"
check "xd: kernel larger than the input" expect_error "network.kernel: 41 is larger than the input (task.resolution 32)" \
  "$cohort" xd --config "$xd_tmp/big-kernel.yaml" --out "$xd_tmp/x1"
check "xd: resolution not a power of two, under mpirun, reported once" expect_error "burgers.resolution must be a power of two dividing burgers.grid (64), got 24" \
  mpi -np 2 cohort xd --config "$xd_tmp/not-pow2.yaml" --out "$xd_tmp/x2"
check "xd: a dataset of the wrong shape" expect_error "permuted images need \[C, H, W\] samples, got \[3\]" \
  "$cohort" xd --config "$xd_tmp/flat-images.yaml" --out "$xd_tmp/x3"
xd_nothing_written() { [ ! -e "$xd_tmp/x1" ] && [ ! -e "$xd_tmp/x2" ] && echo "no run directory for bad configs"; }
check "xd: bad configs write nothing" xd_nothing_written

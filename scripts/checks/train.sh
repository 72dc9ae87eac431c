# Multi-process checks of `cohort train`, sourced by scripts/test.sh (which defines
# `check` and `root`). Data-parallel training on the embedded digits must keep every
# rank's weights bit-identical after every step, and be reproducible run to run.

train_cohort() { "$root/scripts/mpirun.sh" "$@"; }

# Trains data-parallel with the per-step replica check and prints the weight digest.
train_replicas() {
  local np="$1"; shift
  local out
  out="$(train_cohort -np "$np" cohort train --dataset digits --model "$@" --epochs 2 --batch-size 64 --verify-replicas --quiet)" || return 1
  printf '%s\n' "$out"
  printf '%s' "$out" | grep -q "replicas identical after each of 42 steps on $np rank(s)"
}

for np in 2 4; do
  check "train mlp data-parallel on $np ranks: identical weights every step" train_replicas "$np" mlp --dropout 0.1
  check "train cnn data-parallel on $np ranks: identical weights every step" train_replicas "$np" cnn --filters 4,8
done

same_digest_twice() {
  local a b
  a="$(train_cohort -np 2 cohort train --dataset digits --epochs 2 --quiet | grep 'weights digest')" || return 1
  b="$(train_cohort -np 2 cohort train --dataset digits --epochs 2 --quiet | grep 'weights digest')" || return 1
  echo "$a / $b"
  [ -n "$a" ] && [ "$a" = "$b" ]
}
check "train twice with one seed on 2 ranks: bit-identical weights" same_digest_twice

train_error_once() {
  local out rc=0
  out="$(train_cohort -np 3 cohort train --dataset no-such-data 2>&1 >/dev/null)" || rc=$?
  echo "exit $rc: $out"
  [ "$rc" -ne 0 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] && printf '%s' "$out" | grep -q "unknown dataset 'no-such-data'"
}
check "train with a bad dataset under mpirun: one error line" train_error_once

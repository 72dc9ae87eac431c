# The mutation fuzzer (scripts/fuzz.py) over configs, flags, data files, checkpoints,
# journals and interrupted runs, sourced by scripts/test.sh. A fixed seed, so a CI run
# is repeatable; FUZZ_SEED and FUZZ_SECONDS choose others (e.g. FUZZ_SECONDS=3600).
check "fuzz: ${FUZZ_SECONDS:-120} s of mutated inputs, seed ${FUZZ_SEED:-1}: no trap, hang, silent failure or damaged run" \
  python3 scripts/fuzz.py --seed "${FUZZ_SEED:-1}" --budget-seconds "${FUZZ_SECONDS:-120}"

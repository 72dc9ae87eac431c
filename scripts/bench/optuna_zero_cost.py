"""Optuna's successive halving at zero cost, in memory and on one thread: the
decisions per second of a tool that keeps nothing durable, for scripts/bench/journal.sh.
Same space and rungs (eta 3, resource 1..27) as Cohort's zero-cost ASHA benchmark;
a result is one report at a rung."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from objective import loss  # noqa: E402

import optuna  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--trials", type=int, default=4000)
p.add_argument("--seed", type=int, default=1)
args = p.parse_args()
optuna.logging.set_verbosity(optuna.logging.ERROR)
results = 0


def objective(trial):
    global results
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    momentum = trial.suggest_float("momentum", 0.0, 0.99)
    value = None
    for r in (1, 3, 9, 27):
        value = loss(lr, momentum, r)
        results += 1
        trial.report(value, step=r)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=args.seed),
                            pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3))
started = time.perf_counter()
study.optimize(objective, n_trials=args.trials, n_jobs=1)
seconds = time.perf_counter() - started
print(json.dumps({"results": results, "seconds": seconds, "optuna": optuna.__version__}))

"""One Python objective (objective.py) tuned side by side by Cohort's ASHA (persistent
workers under mpirun, journal fsynced), Ray Tune's ASHAScheduler and Optuna's
successive halving, 8 workers each, with the same rungs (eta 3, resource 1..27).

Each tool records one result per rung a trial reaches (the scheduler's decision
points), so results per second compare the tools' overhead per decision. Time to
target is the wall time until some result at any rung is at most --target.

Usage (from scripts/bench/command_peers.sh, which builds the environment):
    python command_peers.py --trials 150 --cost 0        # overhead: results per second
    python command_peers.py --trials 81 --cost 0.05      # time to target
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))
sys.path.insert(0, here)
from objective import loss, train_seconds  # noqa: E402

RUNGS = [1, 3, 9, 27]
LR = (1e-4, 1.0)
MOMENTUM = (0.0, 0.99)


def summary(name, results, seconds, target):
    """results: list of (wall seconds since start, metric)."""
    hit = [t for t, m in sorted(results) if m <= target]
    return {"tool": name, "results": len(results), "seconds": seconds,
            "results_per_second": len(results) / seconds if seconds > 0 else float("inf"),
            "time_to_target": hit[0] if hit else None,
            "best": min((m for _, m in results), default=None)}


def run_cohort(args, out):
    config = os.path.join(out, "cohort.yaml")
    with open(config, "w") as f:
        f.write(f"""name: peers
seed: {args.seed}
metric: loss
mode: min
scheduler: {{type: asha, eta: 3, min_resource: 1, max_resource: 27, max_trials: {args.trials}}}
trainable:
  type: command
  command: [{sys.executable}, {os.path.join(here, "objective.py")}]
  mode: persistent
  environment: {{OBJECTIVE_COST: {args.cost}}}
space:
  lr: {{type: loguniform, low: {LR[0]}, high: {LR[1]}}}
  momentum: {{type: uniform, low: {MOMENTUM[0]}, high: {MOMENTUM[1]}}}
""")
    run = os.path.join(out, "cohort-run")
    started = time.time()
    subprocess.run([os.path.join(root, "scripts", "mpirun.sh"), "-np", str(args.workers + 1), "cohort", "tune",
                    "--config", config, "--out", run, "--quiet"], check=True, stdout=subprocess.DEVNULL, cwd=root)
    wall = time.time() - started
    events = [json.loads(line) for line in open(os.path.join(run, "events.jsonl"))]
    results = [(e["time"], e["metric"]) for e in events if e["event"] == "result"]
    end = [e for e in events if e["event"] == "end"][0]["time"]
    s = summary("cohort (persistent, fsync)", results, end, args.target)
    s["wall_with_startup"] = wall
    return s


def run_ray(args, out):
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    ray.init(num_cpus=args.workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    cost = args.cost

    def trainable(config):
        done = 0
        for r in RUNGS:
            train_seconds(cost, done, r)
            done = r
            tune.report({"loss": loss(config["lr"], config["momentum"], r), "wall": time.time(), "training_iteration_r": r})

    space = {"lr": tune.loguniform(*LR), "momentum": tune.uniform(*MOMENTUM)}
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=len(RUNGS), grace_period=1, reduction_factor=3)
    tuner = tune.Tuner(trainable, param_space=space,
                       tune_config=tune.TuneConfig(metric="loss", mode="min", scheduler=scheduler, num_samples=args.trials,
                                                   max_concurrent_trials=args.workers,
                                                   search_alg=tune.search.BasicVariantGenerator(random_state=args.seed)),
                       run_config=tune.RunConfig(storage_path=os.path.join(out, "ray"), verbose=0))
    started = time.time()
    grid = tuner.fit()
    seconds = time.time() - started
    results = []
    for r in grid:
        df = r.metrics_dataframe
        if df is not None and len(df):
            results += [(w - started, m) for w, m in zip(df["wall"], df["loss"])]
    ray.shutdown()
    return summary("ray tune ASHAScheduler", results, seconds, args.target)


def run_optuna(args, out):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    results, lock = [], threading.Lock()
    started = time.time()
    cost = args.cost

    def objective(trial):
        lr = trial.suggest_float("lr", *LR, log=True)
        momentum = trial.suggest_float("momentum", *MOMENTUM)
        done = 0
        value = None
        for r in RUNGS:
            train_seconds(cost, done, r)
            done = r
            value = loss(lr, momentum, r)
            with lock:
                results.append((time.time() - started, value))
            trial.report(value, step=r)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=args.seed),
                                pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3))
    study.optimize(objective, n_trials=args.trials, n_jobs=args.workers)
    seconds = time.time() - started
    return summary("optuna SuccessiveHalving (in memory)", results, seconds, args.target)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=300)
    p.add_argument("--cost", type=float, default=0.0, help="seconds per resource unit")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--target", type=float, default=0.16)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tools", default="cohort,ray,optuna")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for tool in args.tools.split(","):
            rows.append({"cohort": run_cohort, "ray": run_ray, "optuna": run_optuna}[tool](args, out))
    print(f"\n{args.trials} trials, {args.cost} s per unit, {args.workers} workers, target loss {args.target}")
    print(f"{'tool':38} {'results':>8} {'seconds':>8} {'results/s':>10} {'to target':>10} {'best':>8}")
    for r in rows:
        ttt = "-" if r["time_to_target"] is None else f"{r['time_to_target']:.2f}"
        print(f"{r['tool']:38} {r['results']:8d} {r['seconds']:8.2f} {r['results_per_second']:10.1f} {ttt:>10} {r['best']:8.4f}")
    base = rows[0]
    for r in rows[1:]:
        ratio = base["results_per_second"] / r["results_per_second"]
        line = f"cohort / {r['tool'].split()[0]}: {ratio:.1f}x results per second"
        if base["time_to_target"] and r["time_to_target"]:
            line += f", {r['time_to_target'] / base['time_to_target']:.1f}x faster to target"
        print(line)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

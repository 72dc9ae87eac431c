#!/usr/bin/env python3
"""Cohort's ASHA against Ray Tune's ASHAScheduler on the same learning curves.

Both searches see the same configurations (trial ids 0..N-1 of Cohort's surrogate,
sampled from one seed), the same learning curves (Cohort's surrogate curve family,
ported below and checked against Cohort's own journal, value for value), the same
ASHA parameters (r, R, eta) and 8 workers, each sleeping a fixed time per resource
unit. Reported: time until some result reaches the target loss, results per second,
and the coordinator's throughput with a zero-cost trainable.

Differences that stay: Ray Tune's ASHA stops trials (a trial below its rung's
cut-off ends, one that passes keeps running in the same process) and reports every
resource unit; Cohort's pauses and resumes (every rung is a job, a promotion
continues from a checkpoint on whichever worker is free) and reports once per rung.

Usage: scripts/bench/ray_tune_compare.sh [--quick]
"""
import argparse
import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# ---------------------------------------------------------------------------
# Cohort's random streams and surrogate curves, ported (RandomStream, SearchSpace,
# SurrogateCurve). Only uniform and loguniform parameters are needed here.

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(x):
    z = (x + GOLDEN) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


def name_hash(name):
    h = 0xCBF29CE484222325
    for b in name.encode():
        h = ((h ^ b) * 0x00000100000001B3) & MASK
    return h


class Stream:
    """xoshiro256** seeded like Cohort's RandomStream(seed:stream:)."""

    def __init__(self, seed, path=(), state=None):
        if state is not None:
            self.s = list(state)
            return
        key = mix(seed ^ 0x243F6A8885A308D3)
        for depth, ident in enumerate(path):
            key = mix(key ^ mix((ident + ((depth + 1) * GOLDEN & MASK)) & MASK))
        sm, s = key, []
        for _ in range(4):
            sm = (sm + GOLDEN) & MASK
            z = sm
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            s.append(z ^ (z >> 31))
        if s == [0, 0, 0, 0]:
            s[0] = 1
        self.s = s

    def derived(self, ident):
        s = self.s
        a = mix(s[0] ^ mix(ident ^ 0xD1B54A32D192ED03))
        state = [a, mix(a ^ s[1]), mix(a ^ s[2]), mix(a ^ s[3])]
        if state == [0, 0, 0, 0]:
            state[0] = 1
        return Stream(0, state=state)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self):
        u1 = self.uniform()
        while u1 <= sys.float_info.min:
            u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


NOISE_STREAM = 0x53555252_4F474154  # "SURROGAT"
SHAPE_STREAM = 0x53484150_45000000  # "SHAPE"


class Surrogate:
    """The curves of `trainable: {type: surrogate}` for a space of uniform and
    loguniform parameters, in `mode: min`."""

    def __init__(self, space, seed, max_resource, noise=0.02, floor=0.1, start=2.5, scale=None):
        self.space = space  # [(name, "uniform"|"loguniform", low, high)]
        self.seed = seed
        self.noise, self.floor, self.start = noise, floor, start
        self.scale = scale if scale is not None else max(max_resource / 9, 1e-9)

    def config(self, trial):
        base = Stream(self.seed, [trial])
        out = []
        for name, kind, low, high in self.space:
            rng = base.derived(name_hash(name))
            if kind == "uniform":
                out.append(low + (high - low) * rng.uniform())
            else:
                a, b = math.log(low), math.log(high)
                out.append(min(high, max(low, math.exp(a + (b - a) * rng.uniform()))))
        return out

    def shape(self, trial):
        values = self.config(trial)
        shape = Stream(self.seed, [SHAPE_STREAM])
        distance = weight_sum = projection = 0.0
        for (name, kind, low, high), v in zip(self.space, values):
            if kind == "uniform":
                u = (v - low) / (high - low) if high > low else 0.5
            else:
                u = (math.log(v) - math.log(low)) / (math.log(high) - math.log(low)) if high > low else 0.5
            rng = shape.derived(name_hash(name))
            optimum = 0.15 + 0.7 * rng.uniform()
            weight = 0.5 + rng.uniform()
            direction = rng.uniform() * 2 - 1
            distance += weight * (u - optimum) * (u - optimum)
            weight_sum += weight
            projection += direction * u
        d = distance / weight_sum if weight_sum > 0 else 0
        asymptote = self.floor + (self.start - self.floor) * min(0.9, 2.5 * d)
        speed = 0.5 + 0.75 * (1 + math.sin(2 * math.pi * projection))
        return asymptote, speed

    def loss(self, trial, t, shape=None):
        asymptote, speed = shape or self.shape(trial)
        loss = asymptote + (self.start - asymptote) * math.pow(1 + t / self.scale, -speed)
        if self.noise > 0:
            step = max(0, int(math.floor(t * 1000 + 0.5)))
            loss += self.noise * Stream(self.seed, [NOISE_STREAM, trial, step]).normal()
        return loss


SPACE = [("lr", "loguniform", 1.0e-4, 1.0), ("momentum", "uniform", 0.0, 0.99),
         ("weight_decay", "loguniform", 1.0e-6, 1.0e-2), ("dropout", "uniform", 0.0, 0.5)]


# ---------------------------------------------------------------------------
# Cohort

def cohort_config(name, seed, r, R, eta, trials, seconds_per_unit, checkpoints=True):
    space = "\n".join(f"  {n}: {{type: {k}, low: {lo!r}, high: {hi!r}}}" for n, k, lo, hi in SPACE)
    return f"""name: {name}
seed: {seed}
metric: loss
mode: min
scheduler: {{type: asha, eta: {eta}, min_resource: {r}, max_resource: {R}, max_trials: {trials}}}
trainable: {{type: surrogate, seconds_per_unit: {seconds_per_unit}, checkpoints: {str(checkpoints).lower()}}}
space:
{space}
"""


def run_cohort(tmp, name, config_text, workers, flags=()):
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write(config_text)
    out = os.path.join(tmp, name)
    launched = time.time()
    subprocess.run([os.path.join(ROOT, "scripts", "mpirun.sh"), "-np", str(workers + 1), "cohort", "tune",
                    "--config", path, "--out", out, "--quiet", *flags], check=True, stdout=subprocess.DEVNULL)
    wall = time.time() - launched
    events = [json.loads(line) for line in open(os.path.join(out, "events.jsonl"))]
    results = [(e["time"], e["trial"], e["resource"], e["metric"]) for e in events if e["event"] == "result"]
    end = [e for e in events if e["event"] == "end"][0]["time"]
    return {"results": results, "search_seconds": end, "wall_seconds": wall,
            "trials": len({e["trial"] for e in events if e["event"] == "start"})}


# ---------------------------------------------------------------------------
# Ray Tune

def run_ray(curves, trials, r, R, eta, workers, seconds_per_unit, storage):
    # Cohort writes one journal; spare Ray its per-trial CSV, JSON and TensorBoard
    # files so that the comparison is of the schedulers and their farms.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    try:  # the function API moved between Ray releases
        from ray.tune import report as tune_report, RunConfig as run_config
    except ImportError:
        from ray.train import report as tune_report, RunConfig as run_config

    class Collect(tune.Callback):
        """Every result the driver receives, as it receives it."""

        def __init__(self):
            self.results = []

        def on_trial_result(self, iteration, trials, trial, result, **info):
            self.results.append((result["wall"], result["config"]["trial"], float(result["training_iteration"]),
                                 result["loss"]))

    collect = Collect()
    shapes = [curves.shape(t) for t in range(trials)]
    surrogate = curves

    def trainable(config):
        trial = config["trial"]
        for t in range(1, int(R) + 1):
            if seconds_per_unit > 0:
                time.sleep(seconds_per_unit)
            tune_report({"loss": surrogate.loss(trial, float(t), shapes[trial]), "wall": time.time()})

    ray.init(num_cpus=workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=int(R), grace_period=int(r),
                              reduction_factor=eta, brackets=1)
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        param_space={"trial": tune.grid_search(list(range(trials)))},
        tune_config=tune.TuneConfig(metric="loss", mode="min", scheduler=scheduler, num_samples=1,
                                    max_concurrent_trials=workers, reuse_actors=True),
        run_config=run_config(storage_path=storage, verbose=0, callbacks=[collect]),
    )
    started = time.time()
    with contextlib.redirect_stdout(io.StringIO()):  # Ray's tables
        grid = tuner.fit()
    wall = time.time() - started
    ray.shutdown()
    errors = [r for r in grid if r.error]
    if errors:
        raise RuntimeError(f"{len(errors)} Ray trials failed, e.g. {errors[0].error}")
    results = sorted((wall_time - started, trial, t, loss) for wall_time, trial, t, loss in collect.results)
    return {"results": results, "search_seconds": wall, "wall_seconds": wall, "trials": trials}


# ---------------------------------------------------------------------------
# Figures

def first_time_at_or_below(results, target):
    for t, _, _, loss in sorted(results):
        if loss <= target:
            return t
    return None


def best_loss(results):
    return min(loss for _, _, _, loss in results)


def fmt(x, unit=""):
    return "never" if x is None else f"{x:.2f}{unit}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=256)
    ap.add_argument("--seconds-per-unit", type=float, default=0.1)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--zero-cost-trials", type=int, default=300, help="Ray Tune's zero-cost trials")
    ap.add_argument("--cohort-zero-cost-trials", type=int, default=3000,
                    help="Cohort's zero-cost trials (more, so that its run lasts long enough to time)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    args = ap.parse_args()
    if args.quick:
        args.trials, args.zero_cost_trials, args.cohort_zero_cost_trials = 27, 60, 300
    r, R, eta = 1, 27, 3
    tmp = tempfile.mkdtemp(prefix="cohort-vs-ray-")
    try:
        curves = Surrogate(SPACE, args.seed, R)
        finals = sorted(curves.loss(t, R) for t in range(args.trials))
        target = finals[max(0, args.trials // 20 - 1)]
        print(f"== same curves: {args.trials} configurations (seed {args.seed}), ASHA r={r} R={R} eta={eta}, "
              f"{args.workers} workers, {args.seconds_per_unit} s per resource unit")
        print(f"   target loss {target:.4f} (number {max(1, args.trials // 20)} of the {args.trials} configurations ranked by loss at R; "
              f"best {finals[0]:.4f})")

        # 1. Timed surrogate.
        cohort = run_cohort(tmp, "timed", cohort_config("timed", args.seed, r, R, eta, args.trials, args.seconds_per_unit),
                            args.workers)
        mismatches = [(trial, res, m, curves.loss(trial, res)) for _, trial, res, m in cohort["results"]
                      if curves.loss(trial, res) != m]
        if mismatches:
            print(f"the Python port of the surrogate disagrees with Cohort on {len(mismatches)} results, e.g. {mismatches[:3]}")
            sys.exit(1)
        print(f"   the Python curves equal Cohort's on all {len(cohort['results'])} results it recorded")
        ray_timed = run_ray(curves, args.trials, r, R, eta, args.workers, args.seconds_per_unit, os.path.join(tmp, "ray-timed"))

        rows = []
        rungs = {r * eta ** k for k in range(4)}
        for name, run in (("Cohort", cohort), ("Ray Tune", ray_timed)):
            n = len(run["results"])
            # Only results at rung levels count toward the target: Ray also reports
            # the units in between, which Cohort's jobs do not.
            at_rungs = [x for x in run["results"] if x[2] in rungs]
            rows.append((name, first_time_at_or_below(at_rungs, target), best_loss(at_rungs), n,
                         n / run["search_seconds"], run["search_seconds"], run["wall_seconds"],
                         sum(1 for _, _, res, _ in run["results"] if res >= R)))
        print(f"   {'':9} {'to target':>10} {'best loss':>10} {'results':>8} {'results/s':>10} {'search s':>9} {'wall s':>8} {'at R':>5}")
        for name, tt, best, n, rps, search, wall, atR in rows:
            print(f"   {name:9} {fmt(tt, ' s'):>10} {best:10.4f} {n:8d} {rps:10.1f} {search:9.2f} {wall:8.2f} {atR:5d}")
        (_, c_tt, _, _, c_rps, c_s, _, _), (_, r_tt, _, _, r_rps, r_s, _, _) = rows
        if c_tt and r_tt:
            print(f"   time to target: Ray Tune / Cohort = {r_tt / c_tt:.2f}x")
        print(f"   whole search:   Ray Tune / Cohort = {r_s / c_s:.2f}x")
        print("   (Ray reports every unit and Cohort once per rung: compare results/s within the zero-cost run below)")

        # 2. Zero-cost throughput.
        cz, rz = args.cohort_zero_cost_trials, args.zero_cost_trials
        print(f"== coordinator throughput, zero-cost trainable, {args.workers} workers")
        zero = cohort_config("zero", args.seed, r, R, eta, cz, 0, checkpoints=False)
        runs = [("Cohort", cz, run_cohort(tmp, "zero", zero, args.workers)),
                ("Cohort, no fsync", cz, run_cohort(tmp, "zero-no-fsync", zero, args.workers, ["--no-fsync"])),
                ("Ray Tune", rz, run_ray(curves, rz, r, R, eta, args.workers, 0, os.path.join(tmp, "ray-zero")))]
        print(f"   {'':16} {'trials':>7} {'results':>8} {'seconds':>8} {'results/s':>10} {'trials/s':>9}")
        rates = {}
        for name, trials, run in runs:
            rps, tps = len(run["results"]) / run["search_seconds"], trials / run["search_seconds"]
            rates[name] = (rps, tps)
            print(f"   {name:16} {trials:7d} {len(run['results']):8d} {run['search_seconds']:8.2f} {rps:10.1f} {tps:9.1f}")
        for name in ("Cohort", "Cohort, no fsync"):
            print(f"   {name} / Ray Tune: results/s {rates[name][0] / rates['Ray Tune'][0]:.2f}x, "
                  f"trials/s {rates[name][1] / rates['Ray Tune'][1]:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

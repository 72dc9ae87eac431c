#!/usr/bin/env python3
"""A small real trainable for ``cohort tune``'s ``trainable: {type: command}``.

Fits a linear model by minibatch SGD with momentum to a synthetic regression
problem (200 points, 5 features, generated from a fixed seed, so every trial
sees the same data: 120 to train on, 40 to validate, 40 to test), using only
the standard library so it starts in milliseconds.

Run one process per job (``mode: per_job``)::

    cohort tune --config examples/command/quadratic.yaml

The hyperparameters come as flags (``--lr``, ``--momentum``, ``--batch``) and
the job in ``COHORT_*`` variables. The resource is epochs (the integer part of
``COHORT_RESOURCE``). A promoted trial resumes from
``$COHORT_CHECKPOINT_IN/state.json`` -- weights, velocity, epochs done and the
shuffling RNG's state -- so training 0->3 then 3->9 gives exactly what
training 0->9 at once does. The script writes ``state.json`` into
``COHORT_CHECKPOINT_OUT`` and ``{"metric": validation MSE, "train_loss": ...,
"test_metric": test MSE}`` to ``COHORT_RESULT``.

For Cohort's tests:

* ``--fail MODE`` makes the job fail: ``raise`` (an uncaught exception),
  ``exit`` (exit status 3, a message on stderr), ``signal`` (killed by
  SIGABRT), ``hang`` (sleeps until killed), ``nan`` (reports the metric as
  ``null`` with ``"error": "metric is nan"``), ``nan-token`` (writes
  ``{"metric": NaN}`` as a plain ``json.dump`` does), ``noresult`` (exits 0
  without a result). ``--fail-rung N`` limits it to jobs at rung N and above.
* ``--report stdout`` prints the result as a ``cohort-result: {...}`` line
  instead of writing ``COHORT_RESULT``.
* With ``QUADRATIC_LOG`` set, each job appends ``trial rung resource
  checkpoint_in`` (``-`` for none) to that file in one ``O_APPEND`` write, and
  ``state.json`` records the trial, rung and resource it was saved at and the
  chain of jobs behind it (``history``).
* A checkpoint from another trial, trained to another resource than
  ``COHORT_PREVIOUS_RESOURCE`` or with other hyperparameters is refused (exit
  status 4), so a wrong checkpoint never passes silently.

``quadratic_persistent.py`` serves the same model in ``mode: persistent``.
"""

import argparse
import json
import math
import os
import random
import sys
import time

# The problem: the same for every trial.
DATA_SEED = 20240517
FEATURES = 5
POINTS = 200
TRAIN, VALIDATION = 120, 40  # the remaining 40 points are the test set
NOISE = 0.3

FAIL_MODES = ("none", "raise", "exit", "signal", "hang", "nan", "nan-token", "noresult")
STATE_FILE = "state.json"
STATE_FORMAT = 1


class CheckpointMismatch(Exception):
    """A checkpoint that does not belong to the job resuming from it."""


_DATA = None


def dataset():
    """(train, validation, test), each a list of (features, target); made once per process."""
    global _DATA
    if _DATA is None:
        rng = random.Random(DATA_SEED)
        true_weights = [rng.uniform(-2.0, 2.0) for _ in range(FEATURES)]
        true_bias = rng.uniform(-1.0, 1.0)
        points = []
        for _ in range(POINTS):
            x = [rng.gauss(0.0, 1.0) for _ in range(FEATURES)]
            y = sum(w * v for w, v in zip(true_weights, x)) + true_bias + rng.gauss(0.0, NOISE)
            points.append((x, y))
        _DATA = (points[:TRAIN], points[TRAIN:TRAIN + VALIDATION], points[TRAIN + VALIDATION:])
    return _DATA


def _rng_state_to_json(state):
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


def _rng_state_from_json(value):
    version, internal, gauss_next = value
    return (version, tuple(internal), gauss_next)


def format_resource(resource):
    """A resource as text: ``9`` for 9.0, ``0.5`` for 0.5."""
    resource = float(resource)
    return str(int(resource)) if resource.is_integer() else repr(resource)


class LinearRegression:
    """y = w.x + b fitted by minibatch SGD with (heavy-ball) momentum on 0.5 * MSE."""

    def __init__(self, lr, momentum, batch, seed):
        if batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.batch = int(batch)
        self.rng = random.Random(seed)
        self.weights = [self.rng.gauss(0.0, 0.1) for _ in range(FEATURES)]
        self.bias = 0.0
        self.velocity = [0.0] * FEATURES
        self.velocity_bias = 0.0
        self.epochs = 0
        self.history = []  # [trial, rung, resource] of each job that trained this model

    def hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum, "batch": self.batch}

    def predict(self, x):
        return sum(w * v for w, v in zip(self.weights, x)) + self.bias

    def mse(self, points):
        total = 0.0
        for x, y in points:
            error = self.predict(x) - y
            total += error * error
        return total / len(points)

    def train_to(self, epochs):
        """Train until ``epochs`` epochs in total."""
        if epochs < self.epochs:
            raise ValueError(f"asked to train to {epochs} epochs, but {self.epochs} are done already")
        train, _, _ = dataset()
        for _ in range(self.epochs, epochs):
            order = list(range(len(train)))
            self.rng.shuffle(order)
            for start in range(0, len(order), self.batch):
                chunk = order[start:start + self.batch]
                grad = [0.0] * FEATURES
                grad_bias = 0.0
                for i in chunk:
                    x, y = train[i]
                    error = self.predict(x) - y
                    for k in range(FEATURES):
                        grad[k] += error * x[k]
                    grad_bias += error
                scale = 1.0 / len(chunk)
                for k in range(FEATURES):
                    self.velocity[k] = self.momentum * self.velocity[k] + grad[k] * scale
                    self.weights[k] -= self.lr * self.velocity[k]
                self.velocity_bias = self.momentum * self.velocity_bias + grad_bias * scale
                self.bias -= self.lr * self.velocity_bias
            self.epochs += 1

    def metrics(self):
        """Validation MSE (the metric), training MSE and test MSE."""
        train, validation, test = dataset()
        return {"metric": self.mse(validation), "train_loss": self.mse(train), "test_metric": self.mse(test)}

    def save(self, directory, trial, rung, resource):
        """Write ``state.json`` into ``directory`` (a temporary file renamed into place)."""
        history = self.history + [[trial, rung, float(resource)]]
        state = {
            "format": STATE_FORMAT,
            "trial": trial,
            "rung": rung,
            "resource": float(resource),
            "epochs": self.epochs,
            "hyperparameters": self.hyperparameters(),
            "weights": self.weights,
            "bias": self.bias,
            "velocity": self.velocity,
            "velocity_bias": self.velocity_bias,
            "rng": _rng_state_to_json(self.rng.getstate()),
            "history": history,
        }
        path = os.path.join(directory, STATE_FILE)
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(state, handle)  # no NaN check: a diverged model still resumes as it was
        os.replace(temporary, path)

    def load(self, directory, trial, previous_resource):
        """Resume from ``directory/state.json``, checking it is this job's checkpoint."""
        path = os.path.join(directory, STATE_FILE)
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
        if state.get("format") != STATE_FORMAT:
            raise CheckpointMismatch(f"{path}: unknown format {state.get('format')!r}")
        if state["trial"] != trial:
            raise CheckpointMismatch(f"{path} belongs to trial {state['trial']}, not {trial}")
        if previous_resource is not None and float(state["resource"]) != float(previous_resource):
            raise CheckpointMismatch(
                f"{path} was saved at resource {format_resource(state['resource'])}, "
                f"but the previous resource is {format_resource(previous_resource)}"
            )
        if state["hyperparameters"] != self.hyperparameters():
            raise CheckpointMismatch(
                f"{path} was trained with {state['hyperparameters']}, not {self.hyperparameters()}"
            )
        self.weights = [float(v) for v in state["weights"]]
        self.bias = float(state["bias"])
        self.velocity = [float(v) for v in state["velocity"]]
        self.velocity_bias = float(state["velocity_bias"])
        self.epochs = int(state["epochs"])
        self.rng.setstate(_rng_state_from_json(state["rng"]))
        self.history = [list(entry) for entry in state["history"]]


def log_invocation(trial, rung, resource, checkpoint_in):
    """Append ``trial rung resource checkpoint_in`` to ``$QUADRATIC_LOG``, if set, in one write."""
    path = os.environ.get("QUADRATIC_LOG")
    if not path:
        return
    line = f"{trial} {rung} {format_resource(resource)} {checkpoint_in or '-'}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def crash_by_signal():
    """Die of SIGABRT, as a crashing native extension would, without leaving a core file."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os.abort()


def hang():
    """Sleep until killed."""
    sys.stdout.flush()
    sys.stderr.flush()
    while True:
        time.sleep(3600)


def _env(name, required=True):
    value = os.environ.get(name) or None
    if value is None and required:
        sys.exit(f"quadratic.py: {name} is not set; run under cohort tune (trainable type: command)")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Linear regression by SGD, one cohort tune job per process.")
    parser.add_argument("--lr", type=float, required=True, help="learning rate")
    parser.add_argument("--momentum", type=float, required=True, help="heavy-ball momentum")
    parser.add_argument("--batch", type=int, default=16, help="minibatch size (default 16)")
    parser.add_argument("--fail", choices=FAIL_MODES, default="none", help="make the job fail this way")
    parser.add_argument("--fail-rung", "--fail_rung", dest="fail_rung", type=int, default=0,
                        help="fail only in jobs at this rung or above (default 0)")
    parser.add_argument("--report", choices=("file", "stdout"), default="file",
                        help="write the result to COHORT_RESULT (default) or print a cohort-result: line")
    return parser.parse_args(argv)


def write_result(result, how):
    """Write ``result`` the way a user script would: json.dump, NaN and all."""
    text = json.dumps(result)
    if how == "stdout":
        print("cohort-result: " + text, flush=True)
        return
    path = _env("COHORT_RESULT")
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.replace(temporary, path)


def main(argv=None):
    args = parse_args(argv)
    trial = int(_env("COHORT_TRIAL"))
    rung = int(_env("COHORT_RUNG"))
    resource = float(_env("COHORT_RESOURCE"))
    seed = int(_env("COHORT_SEED"))
    checkpoint_out = _env("COHORT_CHECKPOINT_OUT")
    checkpoint_in = _env("COHORT_CHECKPOINT_IN", required=False)
    previous = _env("COHORT_PREVIOUS_RESOURCE", required=False)
    log_invocation(trial, rung, resource, checkpoint_in)

    failing = args.fail if rung >= args.fail_rung else "none"
    if failing == "raise":
        raise RuntimeError(f"trial {trial} fails on purpose (--fail raise)")
    if failing == "exit":
        print(f"quadratic.py: trial {trial} exits with status 3 on purpose (--fail exit)", file=sys.stderr)
        return 3
    if failing == "signal":
        crash_by_signal()
    if failing == "hang":
        hang()

    model = LinearRegression(args.lr, args.momentum, args.batch, seed)
    if checkpoint_in is not None:
        try:
            model.load(checkpoint_in, trial, None if previous is None else float(previous))
        except CheckpointMismatch as error:
            print(f"quadratic.py: {error}", file=sys.stderr)
            return 4
    model.train_to(int(resource))
    result = model.metrics()
    model.save(checkpoint_out, trial, rung, resource)
    print(f"trial {trial} rung {rung}: {model.epochs} epochs, validation MSE {result['metric']:.6g}")

    if failing == "noresult":
        return 0
    if failing == "nan":
        result = {"metric": None, "error": "metric is nan", "train_loss": result["train_loss"]}
    elif failing == "nan-token":
        result["metric"] = math.nan
    elif not math.isfinite(result["metric"]):
        result = {"metric": None, "error": f"metric is {result['metric']}"}
    write_result(result, args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""quadratic.py's model served in ``cohort tune``'s ``mode: persistent``.

One process per worker rank answers every job sent to that rank through
``cohort_worker.serve()``::

    cohort tune --config examples/command/quadratic-persistent.yaml

The hyperparameters (``lr``, ``momentum``, and optionally ``batch``, ``fail``
and ``fail_rung``) arrive in each ``build`` request. ``fail`` behaves as in
quadratic.py, from the ``train`` request on: ``raise`` (the request fails, the
process goes on), ``exit`` (the process exits with status 3), ``signal`` (it
dies of SIGABRT), ``hang`` (it sleeps until killed), ``nan`` and
``nan-token`` (the metric is NaN, reported as an error), ``noresult``
(``evaluate`` returns nothing). ``QUADRATIC_LOG`` is appended to at each
``train``, as quadratic.py does at each job.
"""

import os
import sys

# Keep the checkout free of __pycache__ folders when Cohort runs this script.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "..", "python")))

import cohort_worker  # noqa: E402
import quadratic  # noqa: E402


class Quadratic(cohort_worker.Trainable):
    """One trial of quadratic.py's linear regression."""

    def __init__(self, trial, config, seed):
        super().__init__(trial, config, seed)
        config = {key.replace("-", "_"): value for key, value in config.items()}
        unknown = set(config) - {"lr", "momentum", "batch", "fail", "fail_rung"}
        if unknown:
            raise ValueError(f"unknown hyperparameters: {', '.join(sorted(unknown))}")
        self.fail = config.get("fail", "none")
        if self.fail not in quadratic.FAIL_MODES:
            raise ValueError(f"fail must be one of {', '.join(quadratic.FAIL_MODES)}, not {self.fail!r}")
        self.fail_rung = int(config.get("fail_rung", 0))
        self.model = quadratic.LinearRegression(
            config["lr"], config["momentum"], config.get("batch", 16), seed
        )
        self.checkpoint_in = None

    def _failing(self):
        return self.fail if self.rung is None or self.rung >= self.fail_rung else "none"

    def restore(self, directory, resource):
        self.model.load(directory, self.trial, resource)
        self.checkpoint_in = directory

    def train(self, resource):
        quadratic.log_invocation(self.trial, self.rung, resource, self.checkpoint_in)
        failing = self._failing()
        if failing == "raise":
            raise RuntimeError(f"trial {self.trial} fails on purpose (fail: raise)")
        if failing == "exit":
            print(f"quadratic_persistent.py: trial {self.trial} exits with status 3 on purpose (fail: exit)",
                  file=sys.stderr, flush=True)
            sys.exit(3)
        if failing == "signal":
            quadratic.crash_by_signal()
        if failing == "hang":
            quadratic.hang()
        self.model.train_to(int(resource))

    def evaluate(self):
        failing = self._failing()
        if failing == "noresult":
            return None
        result = self.model.metrics()
        if failing in ("nan", "nan-token"):
            result["metric"] = float("nan")
        print(f"trial {self.trial} rung {self.rung}: {self.model.epochs} epochs, "
              f"validation MSE {result['metric']:.6g}")
        return result

    def save(self, directory):
        self.model.save(directory, self.trial, self.rung, self.trained)


if __name__ == "__main__":
    sys.exit(cohort_worker.serve(Quadratic))

"""The objective the peer benchmark tunes with every tool: a learning curve of two
hyperparameters that costs `cost` seconds of waiting per resource unit.

    loss(lr, momentum, r) = 0.1 + 0.2 (log10 lr + 2)^2 + (momentum - 0.7)^2 + 1 / (1 + r)

Run as a program it is a Cohort persistent worker (resource = epochs); imported,
`loss` and `train_seconds` are what the Ray Tune and Optuna drivers call.
"""
import json
import math
import os
import sys
import time


def loss(lr, momentum, resource):
    return 0.1 + 0.2 * (math.log10(lr) + 2) ** 2 + (momentum - 0.7) ** 2 + 1.0 / (1.0 + resource)


def train_seconds(cost, start, end):
    """Waits as long as training from `start` to `end` units takes at `cost` s/unit."""
    if cost > 0 and end > start:
        time.sleep(cost * (end - start))


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    import cohort_worker

    cost = float(os.environ.get("OBJECTIVE_COST", "0"))

    class Curve(cohort_worker.Trainable):
        def train(self, resource):
            train_seconds(cost, self.trained, resource)

        def evaluate(self):
            return loss(self.config["lr"], self.config["momentum"], self.trained)

        def save(self, directory):
            with open(os.path.join(directory, "state.json"), "w") as f:
                json.dump({"trained": self.trained}, f)

        def restore(self, directory, resource):
            with open(os.path.join(directory, "state.json")) as f:
                assert json.load(f)["trained"] == resource

    sys.exit(cohort_worker.run(Curve))

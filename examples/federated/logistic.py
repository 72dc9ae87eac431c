#!/usr/bin/env python3
"""Cohort's built-in ``logistic`` model, written in NumPy for ``model: {type: command}``.

Multinomial logistic regression, computed step for step as ``cohort fed``
computes its ``model: {type: logistic}``, so that a run with this model and
the same config gives the built-in's accuracy and loss curves up to float
rounding::

    scripts/mpirun.sh -np 3 cohort fed --config examples/federated/fedavg-synthetic-command.yaml

What it computes, all in float32 as Cohort does:

* parameters: ``W`` of shape ``[classes, features]`` (row-major) followed by
  the bias ``b`` of ``classes`` values -- the built-in's layout, so the
  checkpoints of the two runs can be compared directly. They start at zero
  (as FedProx's reference code starts this model), whatever the seed.
* logits ``x @ W.T + b`` for a minibatch ``x`` of flattened samples;
* the loss of a step: the minibatch's mean cross-entropy, from a stable
  log-softmax (each row's log-sum-exp taken around its largest logit);
* its gradient, then FedProx's ``mu * (w - anchor)`` when ``mu > 0``;
* SGD as Cohort's: ``w -= lr * (g + wd * w)`` without momentum, and
  ``v = momentum * v + g + wd * w; w -= lr * v`` with it, ``v`` starting at
  zero in every local training;
* one step per minibatch Cohort sends, in its order; a loss that is not
  finite ends the client's training as diverged.

Evaluation sums the per-sample cross-entropies and counts the samples whose
largest logit (the first of equal ones) is at the label.
"""

import math
import os
import sys

# Keep the checkout free of __pycache__ folders when Cohort runs this script.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "..", "python")))

import numpy as np  # noqa: E402

import cohort_worker  # noqa: E402

F32 = np.float32


class Logistic(cohort_worker.FederatedModel):
    """Multinomial logistic regression on flattened samples."""

    def __init__(self, sample_shape, classes):
        super().__init__(sample_shape, classes)
        self.weights = self.classes * self.features  # W first, then b

    def parameter_count(self):
        return self.weights + self.classes

    def initialize(self, seed):
        return np.zeros(self.parameter_count(), dtype=F32)

    def _split(self, w):
        """Views of the flat buffer ``w`` as ``W [classes, features]`` and ``b [classes]``."""
        return w[: self.weights].reshape(self.classes, self.features), w[self.weights :]

    def _logits(self, w, x):
        weight, bias = self._split(w)
        return x @ weight.T + bias

    @staticmethod
    def _log_sum_exp(logits):
        """Each row's log-sum-exp, a column ``[n, 1]``, taken around the row's largest logit."""
        top = logits.max(axis=1, keepdims=True)
        return top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True))

    def train(self, parameters, data, plan):
        w = np.array(parameters, dtype=F32)
        weight, bias = self._split(w)  # views: the in-place steps on w update them
        features = data.features.reshape(data.count, self.features)
        labels = data.labels.astype(np.intp)
        lr, momentum, decay, mu = F32(plan.learning_rate), F32(plan.momentum), F32(plan.weight_decay), F32(plan.mu)
        velocity = np.zeros_like(w) if plan.momentum > 0 else None
        anchor = plan.anchor if plan.mu > 0 else None
        gradient = np.zeros_like(w)
        grad_weight, grad_bias = self._split(gradient)
        row_numbers = {}
        loss_sum = 0.0
        for batch in plan.batches:
            n = len(batch)
            if n == 0:  # no samples: a zero loss and a step on the proximal and decay terms alone
                gradient.fill(0)
            else:
                index = np.asarray(batch, dtype=np.intp)
                x, y = features[index], labels[index]
                rows = row_numbers.get(n)
                if rows is None:
                    rows = row_numbers[n] = np.arange(n)
                logits = x @ weight.T + bias
                lse = self._log_sum_exp(logits)
                # The mean of the rows' float32 losses, summed in float64 as Cohort does.
                loss = float(F32((lse[:, 0] - logits[rows, y]).astype(np.float64).sum() / n))
                if not math.isfinite(loss):
                    raise cohort_worker.Diverged(f"minibatch loss {loss}")
                loss_sum += loss
                # d(mean loss)/d(logits) = (softmax - onehot) / n
                scale = F32(1) / F32(n)
                delta = np.exp(logits - lse) * scale
                delta[rows, y] -= scale
                np.matmul(delta.T, x, out=grad_weight)
                np.sum(delta, axis=0, out=grad_bias)
            if anchor is not None:
                gradient += mu * (w - anchor)
            # SGD as Cohort's; a zero weight decay adds exactly nothing, so it is skipped.
            if velocity is not None:
                velocity = momentum * velocity + gradient
                if decay:
                    velocity += decay * w
                w -= lr * velocity
            elif decay:
                w -= lr * (gradient + decay * w)
            else:
                w -= lr * gradient
        return w, loss_sum, len(plan.batches)

    def evaluate(self, parameters, data):
        w = np.asarray(parameters, dtype=F32)
        features = data.features.reshape(data.count, self.features)
        labels = data.labels.astype(np.intp)
        loss_sum, correct = 0.0, 0
        chunk = 4096
        for start in range(0, data.count, chunk):
            x, y = features[start : start + chunk], labels[start : start + chunk]
            logits = self._logits(w, x)
            rows = np.arange(len(y))
            loss_sum += float((self._log_sum_exp(logits)[:, 0] - logits[rows, y]).astype(np.float64).sum())
            correct += int((logits.argmax(axis=1) == y).sum())
        return loss_sum, correct, data.count


if __name__ == "__main__":
    sys.exit(cohort_worker.serve(Logistic))

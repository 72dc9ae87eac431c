#!/usr/bin/env python3
"""A PyTorch MLP on Fashion-MNIST, tuned by ``cohort tune`` in either command mode.

    scripts/mpirun.sh -np 5 cohort tune --config examples/pytorch/fashion-mnist-asha.yaml

Under ``mode: persistent`` (``COHORT_PROTOCOL_FDS`` set) one process per worker
rank loads the data once and serves every job sent to it through
``cohort_worker.serve()``; otherwise the process does one job, with the
hyperparameters as flags (``--lr 0.01 --batch 128 --hidden 256``) and the job
in ``COHORT_*`` variables.

The data are the IDX files of Debian's ``dataset-fashion-mnist`` package
(``/usr/share/datasets/fashion-mnist``, gzipped or not; ``--data-dir`` or
``FASHION_MNIST_DIR`` to read them elsewhere). A fixed 10% of the 60,000
training images, the same for every trial, is held out for validation. The
resource is epochs; the metric is validation accuracy (``mode: max``) and
``test_metric`` the accuracy on the 10,000 test images. A checkpoint is the
model's and the optimizer's ``state_dict`` and the shuffling generator's state,
saved with ``torch.save``, so a promoted trial goes on exactly where it stopped.

Needs ``torch`` and ``numpy``; runs on one CPU thread unless ``--threads`` says
otherwise, and on the GPU when Cohort assigns one (``CUDA_VISIBLE_DEVICES``).
"""

import argparse
import functools
import gzip
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

sys.dont_write_bytecode = True  # keep the checkout free of __pycache__ folders
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "..", "python")))

import cohort_worker  # noqa: E402

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
SPLIT_SEED = 0  # the validation split: the same for every trial of every search
VALIDATION_FRACTION = 0.1
CHECKPOINT = "checkpoint.pt"
HYPERPARAMETERS = {"lr": float, "batch": int, "hidden": int, "momentum": float, "weight_decay": float}
DEFAULTS = {"lr": 0.05, "batch": 128, "hidden": 256, "momentum": 0.9, "weight_decay": 0.0}


# --------------------------------------------------------------------------- data


def read_idx(path):
    """An IDX file of unsigned bytes (``.gz`` or plain) as a NumPy array of its shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file")
    if data[2] != 0x08:
        raise ValueError(f"{path}: element type 0x{data[2]:02x} is not unsigned bytes")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    count = int(np.prod(shape))
    offset = 4 + 4 * ndim
    if len(data) - offset != count:
        raise ValueError(f"{path}: {len(data) - offset} bytes of data for a {shape} array")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def idx_path(data_dir, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(
        f"{os.path.join(data_dir, stem)}(.gz) not found: install Debian's dataset-fashion-mnist "
        "or point --data-dir (FASHION_MNIST_DIR) at the IDX files"
    )


@functools.lru_cache(maxsize=None)
def load(data_dir, device):
    """The training, validation and test sets as ``(images, labels)`` tensors on ``device``.

    Images are flattened to 784 features, scaled to [0, 1] and standardized
    with the training split's mean and standard deviation. Read once per process.
    """
    images = read_idx(idx_path(data_dir, "train-images-idx3-ubyte"))
    labels = read_idx(idx_path(data_dir, "train-labels-idx1-ubyte"))
    test_images = read_idx(idx_path(data_dir, "t10k-images-idx3-ubyte"))
    test_labels = read_idx(idx_path(data_dir, "t10k-labels-idx1-ubyte"))
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    held_out = int(round(VALIDATION_FRACTION * len(images)))
    validation, train = order[:held_out], order[held_out:]

    def tensors(x, y):
        x = torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0)
        return x, torch.from_numpy(y.astype(np.int64))

    train_x, train_y = tensors(images[train], labels[train])
    mean, std = train_x.mean(), train_x.std()

    def prepare(x, y):
        return ((x - mean) / std).to(device), y.to(device)

    return (
        prepare(train_x, train_y),
        prepare(*tensors(images[validation], labels[validation])),
        prepare(*tensors(test_images, test_labels)),
    )


# --------------------------------------------------------------------------- model


def parse_config(config):
    """The hyperparameters, defaults filled in; refuses a name it does not know."""
    config = {key.replace("-", "_"): value for key, value in config.items()}
    unknown = sorted(set(config) - set(HYPERPARAMETERS))
    if unknown:
        known = ", ".join(HYPERPARAMETERS)
        raise ValueError(f"unknown hyperparameters: {', '.join(unknown)} (known: {known})")
    return {name: kind(config.get(name, DEFAULTS[name])) for name, kind in HYPERPARAMETERS.items()}


class FashionMLP(cohort_worker.Trainable):
    """784 -> hidden -> 10 with ReLU, trained by SGD with momentum on cross-entropy."""

    def __init__(self, trial, config, seed, data_dir=DEFAULT_DATA_DIR):
        super().__init__(trial, config, seed)
        self.hp = parse_config(config)
        if self.hp["batch"] < 1 or self.hp["hidden"] < 1:
            raise ValueError("batch and hidden must be at least 1")
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.train_set, self.validation_set, self.test_set = load(data_dir, self.device)
        torch.manual_seed(seed)
        self.model = nn.Sequential(
            nn.Linear(784, self.hp["hidden"]), nn.ReLU(), nn.Linear(self.hp["hidden"], 10)
        ).to(self.device)
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=self.hp["lr"], momentum=self.hp["momentum"],
            weight_decay=self.hp["weight_decay"],
        )
        self.shuffle = torch.Generator().manual_seed(seed)
        self.train_loss = None

    def train(self, resource):
        images, labels = self.train_set
        batch = self.hp["batch"]
        loss_fn = nn.CrossEntropyLoss()
        self.model.train()
        for _ in range(int(self.trained), int(resource)):
            order = torch.randperm(len(images), generator=self.shuffle).to(self.device)
            total, steps = 0.0, 0
            for start in range(0, len(order), batch):
                chosen = order[start:start + batch]
                loss = loss_fn(self.model(images[chosen]), labels[chosen])
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                total += loss.item()
                steps += 1
            self.train_loss = total / steps

    @torch.no_grad()
    def _score(self, dataset):
        images, labels = dataset
        self.model.eval()
        correct, loss = 0, 0.0
        for start in range(0, len(images), 4096):
            logits = self.model(images[start:start + 4096])
            target = labels[start:start + 4096]
            loss += nn.functional.cross_entropy(logits, target, reduction="sum").item()
            correct += (logits.argmax(1) == target).sum().item()
        return correct / len(images), loss / len(images)

    def evaluate(self):
        accuracy, loss = self._score(self.validation_set)
        test_accuracy, _ = self._score(self.test_set)
        result = {"metric": accuracy, "val_loss": loss, "test_metric": test_accuracy}
        if self.train_loss is not None:
            result["train_loss"] = self.train_loss
        return result

    def save(self, directory):
        path = os.path.join(directory, CHECKPOINT)
        torch.save(
            {
                "trial": self.trial,
                "epochs": int(self.trained),
                "hyperparameters": self.hp,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "shuffle": self.shuffle.get_state(),
            },
            path + ".tmp",
        )
        os.replace(path + ".tmp", path)

    def restore(self, directory, resource):
        path = os.path.join(directory, CHECKPOINT)
        state = torch.load(path, map_location=self.device, weights_only=True)
        if state["trial"] != self.trial:
            raise ValueError(f"{path} belongs to trial {state['trial']}, not {self.trial}")
        if state["epochs"] != int(resource):
            raise ValueError(f"{path} holds {state['epochs']} epochs, not {int(resource)}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.shuffle.set_state(state["shuffle"].cpu())

    def close(self):
        if self.device.type == "cuda":
            del self.model, self.optimizer
            torch.cuda.empty_cache()


# --------------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", "--data_dir", dest="data_dir",
                        default=os.environ.get("FASHION_MNIST_DIR", DEFAULT_DATA_DIR))
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    parser.add_argument("--batch", type=int, default=DEFAULTS["batch"])
    parser.add_argument("--hidden", type=int, default=DEFAULTS["hidden"])
    parser.add_argument("--momentum", type=float, default=DEFAULTS["momentum"])
    parser.add_argument("--weight-decay", "--weight_decay", dest="weight_decay", type=float,
                        default=DEFAULTS["weight_decay"])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    factory = functools.partial(FashionMLP, data_dir=args.data_dir)
    if os.environ.get("COHORT_PROTOCOL_FDS"):
        return cohort_worker.serve(factory)
    if os.environ.get("COHORT_HYPERPARAMETERS"):
        config = cohort_worker.hyperparameters()
    else:
        config = {name: getattr(args, name) for name in HYPERPARAMETERS}
    cohort_worker.run_job(factory, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""FedAvg in Flower's simulation engine, for a side-by-side throughput comparison with
`cohort fed` (scripts/bench/federated.sh runs both).

Reads a federation in LEAF JSON (`cohort fed --config C --export-leaf DIR` writes the
exact data a Cohort config names), trains the same model with the same local work
(E epochs of minibatch SGD, batch B, learning rate lr, on each sampled client), samples
K clients per round and averages weighted by sample count (Flower's FedAvg), then
reports rounds per second over the training rounds (Ray's start-up excluded) and the
pooled test accuracy of the final model.

Needs PyPI `flwr[simulation]` (Flower with Ray) and PyTorch; federated.sh sets up a
virtual environment on top of Debian's python3-torch.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn

from flwr.client import ClientApp, NumPyClient
from flwr.common import ndarrays_to_parameters
from flwr.server import ServerApp, ServerAppComponents, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.simulation import run_simulation


def load_leaf(directory):
    users, data = [], {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json"):
            with open(os.path.join(directory, name)) as f:
                part = json.load(f)
            users += part["users"]
            data.update(part["user_data"])
    return users, {u: (np.asarray(data[u]["x"], dtype=np.float32), np.asarray(data[u]["y"], dtype=np.int64)) for u in users}


def make_model(features, classes, hidden):
    if not hidden:
        model = nn.Linear(features, classes)
        nn.init.zeros_(model.weight)
        nn.init.zeros_(model.bias)
        return model
    layers, width = [], features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def get_weights(model):
    return [p.detach().cpu().numpy().copy() for p in model.state_dict().values()]


def set_weights(model, weights):
    state = model.state_dict()
    for key, value in zip(state.keys(), weights):
        state[key] = torch.from_numpy(np.asarray(value))
    model.load_state_dict(state)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with train/ and test/ LEAF JSON")
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--clients-per-round", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--hidden", type=int, nargs="*", default=[], help="MLP widths; none = logistic regression")
    ap.add_argument("--cpus-per-client", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(1)
    users, train = load_leaf(os.path.join(args.data, "train"))
    _, test = load_leaf(os.path.join(args.data, "test"))
    features = next(iter(train.values()))[0].shape[1]
    classes = int(max(max(y.max() for _, y in train.values()), max(y.max() for _, y in test.values() if len(y)))) + 1

    class Client(NumPyClient):
        def __init__(self, user):
            self.x, self.y = (torch.from_numpy(a) for a in train[user])
            self.model = make_model(features, classes, args.hidden)
            self.rng = np.random.default_rng(args.seed + users.index(user))

        def fit(self, parameters, config):
            torch.set_num_threads(1)
            set_weights(self.model, parameters)
            opt = torch.optim.SGD(self.model.parameters(), lr=args.lr)
            loss_fn = nn.CrossEntropyLoss()
            n = len(self.y)
            for _ in range(args.epochs):
                order = torch.from_numpy(self.rng.permutation(n))
                for start in range(0, n, args.batch_size):
                    idx = order[start:start + args.batch_size]
                    opt.zero_grad()
                    loss_fn(self.model(self.x[idx]), self.y[idx]).backward()
                    opt.step()
            return get_weights(self.model), n, {}

    def client_fn(context):
        return Client(users[int(context.node_config["partition-id"])]).to_client()

    x_test = torch.from_numpy(np.concatenate([x for x, y in test.values() if len(y)]))
    y_test = torch.from_numpy(np.concatenate([y for x, y in test.values() if len(y)]))
    clock = {}
    result = {}

    def evaluate(server_round, parameters, config):
        if server_round < args.rounds:
            return None
        clock["end"] = time.time()
        model = make_model(features, classes, args.hidden)
        set_weights(model, parameters)
        with torch.no_grad():
            accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        result["accuracy"] = accuracy
        return 0.0, {"accuracy": accuracy}

    class TimedFedAvg(FedAvg):
        def configure_fit(self, server_round, parameters, client_manager):
            if server_round == 1:
                clock["start"] = time.time()
            return super().configure_fit(server_round, parameters, client_manager)

    fraction = args.clients_per_round / len(users)
    strategy = TimedFedAvg(fraction_fit=fraction, min_fit_clients=args.clients_per_round, fraction_evaluate=0.0,
                           min_evaluate_clients=0, min_available_clients=len(users), evaluate_fn=evaluate,
                           initial_parameters=ndarrays_to_parameters(get_weights(make_model(features, classes, args.hidden))))

    def server_fn(context):
        return ServerAppComponents(strategy=strategy, config=ServerConfig(num_rounds=args.rounds))

    started = time.time()
    run_simulation(server_app=ServerApp(server_fn=server_fn), client_app=ClientApp(client_fn=client_fn),
                   num_supernodes=len(users),
                   backend_config={"client_resources": {"num_cpus": args.cpus_per_client, "num_gpus": 0.0}})
    total = time.time() - started
    seconds = clock["end"] - clock["start"]
    print(json.dumps({"framework": "flower", "flwr": __import__("flwr").__version__, "rounds": args.rounds,
                      "round_seconds": seconds, "rounds_per_second": args.rounds / seconds,
                      "total_seconds": total, "test_accuracy": result.get("accuracy")}))


if __name__ == "__main__":
    main()

// Federated rounds: FedAvg, FedProx, server optimizers, FedEx.

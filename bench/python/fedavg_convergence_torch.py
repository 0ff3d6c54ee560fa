"""PyTorch reference for bench/demo-convergence.ts.

Runs the demo's federated training (the seed's Net and task.py settings: SGD with
momentum, cross-entropy, batch 32, one local epoch, FedAvg weighted by the number
of training examples) on partitions prepared by `flwr-ts-prepare-dataset`, and
prints one JSON line per trial: the per-round mean training loss of each node and
the accuracy of the aggregated model on each node's test split.
"""

import argparse
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """The seed's CNN (Flower's CIFAR-10 `Net`)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def load_split(directory, header, split):
    entry = header["splits"][split]
    h, w, c = header["shape"]
    with open(os.path.join(directory, entry["images"]), "rb") as f:
        pixels = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8)
    with open(os.path.join(directory, entry["labels"]), "rb") as f:
        labels = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).long()
    # NHWC bytes -> NCHW floats, normalised as the seed's transform: (x/255 - 0.5)/0.5
    x = pixels.view(entry["count"], h, w, c).permute(0, 3, 1, 2).contiguous().float()
    return ((x / 255.0) - 0.5) / 0.5, labels


def load_partition(directory):
    with open(os.path.join(directory, "dataset.json"), encoding="utf-8") as f:
        header = json.load(f)
    return load_split(directory, header, "train"), load_split(directory, header, "test")


def train(net, x, y, epochs, lr, momentum, batch_size):
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    total, steps = 0.0, 0
    for _ in range(epochs):
        perm = torch.randperm(len(y))
        for i in range(0, len(y), batch_size):
            idx = perm[i : i + batch_size]
            opt.zero_grad()
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
    return total / steps


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("partitions", nargs="+")
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    parts = [load_partition(d) for d in args.partitions]
    for trial in range(args.trials):
        torch.manual_seed(args.seed + trial)
        global_net = Net()
        rounds = []
        for _ in range(args.rounds):
            states, losses, counts = [], [], []
            for (x, y), _test in parts:
                net = Net()
                net.load_state_dict(global_net.state_dict())
                losses.append(train(net, x, y, args.epochs, args.lr, args.momentum, args.batch_size))
                states.append(net.state_dict())
                counts.append(len(y))
            n = sum(counts)
            avg = {k: sum(s[k] * (c / n) for s, c in zip(states, counts)) for k in states[0]}
            global_net.load_state_dict(avg)
            acc = [accuracy(global_net, tx, ty) for _train, (tx, ty) in parts]
            rounds.append({"train_loss": losses, "accuracy": acc})
        print(json.dumps({"trial": trial, "torch": torch.__version__, "rounds": rounds}), flush=True)


if __name__ == "__main__":
    main()

"""PyTorch CPU reference for bench/train-throughput.ts.

Trains the seed's Net (Flower's CIFAR-10 CNN) for one epoch on random
CIFAR-shaped data with SGD(momentum=0.9) at the given batch size and evaluates
it at batch 256; prints one JSON line with images/s.
"""

import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=2048)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--eval-batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(args.images, 3, 32, 32) * 2 - 1
    y = torch.randint(0, 10, (args.images,))
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def epoch(n):
        net.train()
        perm = torch.randperm(n)
        for i in range(0, n, args.batch_size):
            idx = perm[i : i + args.batch_size]
            opt.zero_grad()
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()

    epoch(min(256, args.images))  # warm-up
    t = time.perf_counter()
    c = time.process_time()
    epoch(args.images)
    train = args.images / (time.perf_counter() - t)
    train_cpu = args.images / (time.process_time() - c)
    net.eval()
    with torch.no_grad():
        net(x[: args.eval_batch_size])
        t = time.perf_counter()
        c = time.process_time()
        for i in range(0, args.images, args.eval_batch_size):
            net(x[i : i + args.eval_batch_size])
        evaluate = args.images / (time.perf_counter() - t)
        eval_cpu = args.images / (time.process_time() - c)
    print(
        json.dumps(
            {
                "train": train,
                "eval": evaluate,
                "train_cpu": train_cpu,
                "eval_cpu": eval_cpu,
                "threads": torch.get_num_threads(),
                "version": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()

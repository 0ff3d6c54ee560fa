"""Python side of bench/simulation.ts: the same app logic on Flower 1.29's Ray simulation.

A linear model of 10,000 float32 weights; each sampled ClientApp runs one SGD epoch over 32
samples generated from its partition id; the ServerApp averages the replies. Prints one JSON
line: seconds per round and peak RSS in MB (driver + largest Ray child).
"""

import json
import random
import resource
import sys
import time

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MessageType, MetricRecord, RecordDict
from flwr.client import ClientApp
from flwr.server import Grid, ServerApp
from flwr.simulation import run_simulation

NODES, ROUNDS, SAMPLE = (int(a) for a in sys.argv[1:4])
PARAMS = 10_000
client = ClientApp()
server = ServerApp()
result = {}


@client.train()
def train(msg: Message, context: Context) -> Message:
    w = msg.content["arrays"]["w"].numpy().astype(np.float32).copy()
    pid = int(context.node_config["partition-id"])
    rng = np.random.default_rng(pid + 1)
    for _ in range(32):
        x = (rng.random(PARAMS, dtype=np.float32) - 0.5).astype(np.float32)
        err = float(w @ x) - (pid % 7)
        w -= np.float32(1e-4 * err) * x
    content = RecordDict(
        {"arrays": ArrayRecord({"w": Array(w)}), "metrics": MetricRecord({"num-examples": 32})}
    )
    return Message(content, reply_to=msg)


@server.main()
def main(grid: Grid, context: Context) -> None:
    ids = list(grid.get_node_ids())
    while len(ids) < NODES:
        time.sleep(0.1)
        ids = list(grid.get_node_ids())
    w = np.zeros(PARAMS, dtype=np.float32)
    t0 = time.perf_counter()
    for r in range(1, ROUNDS + 1):
        picked = random.sample(ids, SAMPLE)
        msgs = [
            Message(
                RecordDict({"arrays": ArrayRecord({"w": Array(w)}), "config": ConfigRecord({"server-round": r})}),
                dst_node_id=n,
                message_type=MessageType.TRAIN,
                group_id=str(r),
            )
            for n in picked
        ]
        replies = [m for m in grid.send_and_receive(msgs) if m.has_content()]
        if len(replies) != SAMPLE:
            raise RuntimeError(f"round {r}: {len(replies)}/{SAMPLE} replies")
        w = np.mean([m.content["arrays"]["w"].numpy() for m in replies], axis=0).astype(np.float32)
    result["per_round"] = (time.perf_counter() - t0) / ROUNDS


run_simulation(
    server_app=server,
    client_app=client,
    num_supernodes=NODES,
    backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}},
)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
result["rss_mb"] = rss / 1024
print(json.dumps(result))

"""The ServerApp: FedAvg (train + evaluate on every node) for `num-server-rounds` rounds.

Its central `evaluate_fn` runs once before round 1 and once at the end of every round, and
prints `ROUND_MS <round> <ms since the previous call> <epoch ms>` like the flwr-ts no-op app
of bench/round-latency.ts, so both are parsed the same way.
"""

import time

import numpy as np
from flwr.app import ArrayRecord, Context, MetricRecord
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run FedAvg and print one ROUND_MS line per round."""
    num_rounds = int(context.run_config["num-server-rounds"])
    last = time.perf_counter()

    def evaluate_fn(server_round: int, arrays: ArrayRecord) -> MetricRecord | None:
        nonlocal last
        now = time.perf_counter()
        if server_round > 0:
            print(
                f"ROUND_MS {server_round} {(now - last) * 1000:.2f} {time.time() * 1000:.3f}",
                flush=True,
            )
        last = time.perf_counter()
        return None

    FedAvg(fraction_evaluate=1.0).start(
        grid=grid,
        initial_arrays=ArrayRecord([np.zeros(10, dtype=np.float32)]),
        num_rounds=num_rounds,
        evaluate_fn=evaluate_fn,
    )

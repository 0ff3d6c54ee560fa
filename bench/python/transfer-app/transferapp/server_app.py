"""The ServerApp: sends a `model-mb` float32 ArrayRecord to every node `rounds` times.

Per round it prints `XFER {json}` (send start and all-replies epoch ms, each reply's receive and
reply stamps, peak RSS, and whether the echo matches) like the flwr-ts app of
bench/model-transfer.ts, so both are parsed the same way; `APP_HWM_KB <kB>` at the end.
"""

import json
import time

import numpy as np
from flwr.app import ArrayRecord, Context, Message, MessageType, RecordDict
from flwr.serverapp import Grid, ServerApp

app = ServerApp()


def _hwm_kb() -> int:
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Send, receive, check, print."""
    n = int(float(context.run_config["model-mb"]) * 1024 * 1024) // 4
    rounds = int(context.run_config["rounds"])
    data = (np.arange(n, dtype=np.float32) % 1000) * np.float32(0.001)
    stride = max(1, n // 1024)
    probe = data[::stride].copy()
    record = ArrayRecord([data])
    nodes = list(grid.get_node_ids())
    for r in range(1, rounds + 1):
        t0 = time.time() * 1000
        messages = [
            Message(RecordDict({"arrays": record}), dst_node_id=node, message_type=MessageType.TRAIN)
            for node in nodes
        ]
        replies = list(grid.send_and_receive(messages))
        t1 = time.time() * 1000
        out = []
        for reply in replies:
            if reply.has_error():
                out.append({"ok": False, "error": str(reply.error)})
                continue
            echoed = reply.content.array_records["arrays"].to_numpy_ndarrays()[0]
            metrics = reply.content.metric_records["metrics"]
            ok = echoed.shape == data.shape and bool(np.array_equal(echoed[::stride], probe))
            out.append(
                {
                    "ok": ok,
                    "recv": metrics["recv-ms"],
                    "sent": metrics["sent-ms"],
                    "hwm": metrics["hwm-kb"],
                }
            )
            del echoed
        del replies
        print("XFER " + json.dumps({"round": r, "t0": t0, "t1": t1, "replies": out}), flush=True)
    print(f"APP_HWM_KB {_hwm_kb()}", flush=True)

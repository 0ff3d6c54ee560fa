"""The ClientApp: echoes the received arrays, stamped with when it got them and its peak RSS."""

import time

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

app = ClientApp()


def _hwm_kb() -> int:
    """Peak resident set size of this process (VmHWM), in kB."""
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


@app.train()
def train_fn(msg: Message, context: Context) -> Message:
    """Return the received arrays unchanged with the receive/reply epoch times in ms."""
    received = time.time() * 1000
    arrays = msg.content.array_records.get("arrays", ArrayRecord())
    metrics = MetricRecord(
        {"recv-ms": received, "hwm-kb": _hwm_kb(), "sent-ms": time.time() * 1000}
    )
    return Message(RecordDict({"arrays": arrays, "metrics": metrics}), reply_to=msg)

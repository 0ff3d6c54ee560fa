"""The ClientApp: does no work, so a round's time is Flower's own overhead."""

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

app = ClientApp()


@app.train()
def train_fn(msg: Message, context: Context) -> Message:
    """Return the received arrays unchanged, weighted as one example."""
    arrays = msg.content.array_records.get("arrays", ArrayRecord())
    metrics = MetricRecord({"num-examples": 1})
    return Message(RecordDict({"arrays": arrays, "metrics": metrics}), reply_to=msg)


@app.evaluate()
def evaluate_fn(msg: Message, context: Context) -> Message:
    """Report a loss of 0 over one example."""
    metrics = MetricRecord({"num-examples": 1, "loss": 0.0})
    return Message(RecordDict({"metrics": metrics}), reply_to=msg)

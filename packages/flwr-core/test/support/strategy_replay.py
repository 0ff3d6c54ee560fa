"""Replays scripted replies through a Python Flower 1.29 strategy (flwr-ts equivalence tests).

Reads a scenario (JSON) on stdin: the strategy's class name and keyword arguments, the node
ids, the initial arrays (.npy bytes, base64) and per round the train and evaluate replies
(arrays, metrics with explicit int/float tags, or an error reason). Drives the strategy's own
configure_train / aggregate_train / configure_evaluate / aggregate_evaluate on Message
objects and prints, per round, the aggregated arrays (.npy, base64), metrics and the train
config the strategy sent.
"""

import base64
import importlib
import io
import json
import logging
import sys

import numpy as np

import flwr.serverapp.strategy as strategies
from flwr.common.logger import FLOWER_LOGGER
from flwr.app import Array, ArrayRecord, ConfigRecord, Error, Message, MetricRecord, RecordDict


class ReplayGrid:
    """The part of a Grid that strategies use in configure_*: the connected node ids."""

    def __init__(self, node_ids):
        self.node_ids = node_ids

    def get_node_ids(self):
        return list(self.node_ids)


def load_npy(b64):
    return np.load(io.BytesIO(base64.b64decode(b64)), allow_pickle=False)


def dump_npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode()


def read_value(tag, v):
    if tag == "i":
        return int(v)
    if tag == "f":
        return float(v)
    if tag == "il":
        return [int(x) for x in v]
    if tag == "fl":
        return [float(x) for x in v]
    raise ValueError(tag)


def write_record(record):
    out = []
    for k, v in record.items():
        if isinstance(v, bool) or isinstance(v, (str, bytes)):
            out.append([k, "other", repr(v)])
        elif isinstance(v, int):
            out.append([k, "i", str(v)])
        elif isinstance(v, float):
            out.append([k, "f", v])
        elif isinstance(v, list) and all(isinstance(x, int) for x in v):
            out.append([k, "il", [str(x) for x in v]])
        else:
            out.append([k, "fl", [float(x) for x in v]])
    return out


def arrays_out(record):
    if record is None:
        return None
    return [[k, a.numpy().dtype.str, dump_npy(a.numpy())] for k, a in record.items()]


def replies_for(messages, scripted):
    by_node = {m.metadata.dst_node_id: m for m in messages}
    replies = []
    for r in scripted:
        ins = by_node[int(r["node"])]
        if "error" in r:
            replies.append(Message(Error(code=0, reason=r["error"]), reply_to=ins))
            continue
        content = RecordDict()
        if "arrays" in r:
            content["arrays"] = ArrayRecord(
                {k: Array(load_npy(b)) for k, b in r["arrays"]}
            )
        content["metrics"] = MetricRecord(
            {k: read_value(t, v) for k, t, v in r["metrics"]}
        )
        replies.append(Message(content, reply_to=ins))
    return replies


class Collect(logging.Handler):
    """Keeps every Flower log record as (level name, message)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append([record.levelname, record.getMessage()])


def strategy_class(name):
    if "." in name:  # a class not exported by flwr.serverapp.strategy, e.g. "fedopt.FedOpt"
        module, name = name.rsplit(".", 1)
        return getattr(importlib.import_module(f"flwr.serverapp.strategy.{module}"), name)
    return getattr(strategies, name)


def build_kwargs(entries):
    """Keyword arguments; a "strategy" entry is [name, entries] built as that strategy."""
    kwargs = {}
    for k, t, v in entries:
        if t == "other":
            kwargs[k] = v
        elif t == "strategy":
            kwargs[k] = strategy_class(v[0])(**build_kwargs(v[1]))
        else:
            kwargs[k] = read_value(t, v)
    return kwargs


def main():
    scenario = json.load(sys.stdin)
    collect = Collect()
    FLOWER_LOGGER.addHandler(collect)
    strategy = strategy_class(scenario["strategy"])(**build_kwargs(scenario["kwargs"]))
    strategy.summary()
    grid = ReplayGrid([int(n) for n in scenario["nodes"]])
    arrays = ArrayRecord({k: Array(load_npy(b)) for k, b in scenario["initial"]})
    out = []
    for i, rnd in enumerate(scenario["rounds"]):
        server_round = i + 1
        train_config = ConfigRecord()
        messages = list(strategy.configure_train(server_round, arrays, train_config, grid))
        new_arrays, train_metrics = strategy.aggregate_train(
            server_round, replies_for(messages, rnd["train"])
        )
        if new_arrays is not None:
            arrays = new_arrays
        messages = list(
            strategy.configure_evaluate(server_round, arrays, ConfigRecord(), grid)
        )
        eval_metrics = strategy.aggregate_evaluate(
            server_round, replies_for(messages, rnd["evaluate"])
        )
        out.append(
            {
                "arrays": arrays_out(new_arrays),
                "trainMetrics": None if train_metrics is None else write_record(train_metrics),
                "evaluateMetrics": None if eval_metrics is None else write_record(eval_metrics),
                "trainConfig": write_record(train_config),
                "sampled": sorted(m.metadata.dst_node_id for m in messages),
            }
        )
    json.dump({"rounds": out, "log": collect.lines}, sys.stdout)


main()

"""Flower 1.29's SecAgg+ halves for test/secaggplus-python.test.ts, over stdio.

argv[1] == "nodes": Python ClientApps (NumPyClient + Flower's `secaggplus_mod`) for node ids
  100.. ; each stdin line is a hex proto Message (an instruction from the flwr-ts workflow), each
  stdout line the hex proto reply. argv[2]: node count, argv[3]: index of a node that fails at
  the collect_masked_vectors stage (-1: none).
argv[1] == "server": Flower's DefaultWorkflow(fit_workflow=SecAggPlusWorkflow) with a Grid whose
  send_and_receive writes one JSON line {"send": [hex...]} and reads one line of hex replies
  (JSON list); at the end prints {"done": [[...final parameters...]]}. argv[2]: node count,
  argv[3]: rounds.
Node i updates every parameter to p + (i + 1) * 0.01 * (j + 1) (j = flat index), weight 10(i + 1).
"""
import json
import sys

import numpy as np

from flwr.client import ClientApp, NumPyClient
from flwr.client.mod import secaggplus_mod
from flwr.common import Context, Message, RecordDict, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.common.message import Error
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS
from flwr.common.serde import message_from_proto, message_to_proto
from flwr.common.typing import Run
from flwr.proto.message_pb2 import Message as ProtoMessage
from flwr.server import ServerConfig
from flwr.server.compat.legacy_context import LegacyContext
from flwr.server.grid import Grid
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow

# No 0-d array here: Flower 1.29's SecAggPlusWorkflow drops the offset and the re-weighting of
# 0-d parameters (its in-place `vec += offset` rebinds a numpy scalar), which flwr-ts does not copy.
INITIAL = [np.array([[0.5, 0.4, 0.3], [0.2, 0.1, 0.0]], dtype=np.float32), np.array([-1.5, 0.25], dtype=np.float32)]


def update(i, params):
    out = []
    for p in params:
        flat = p.reshape(-1).astype(np.float64)
        flat = flat + (i + 1) * 0.01 * (np.arange(flat.size) + 1)
        out.append(flat.astype(np.float32).reshape(p.shape))
    return out


def dec(line):
    p = ProtoMessage()
    p.ParseFromString(bytes.fromhex(line))
    return message_from_proto(p)


def enc(msg):
    return message_to_proto(msg).SerializeToString().hex()


def nodes(n, drop):
    contexts = {}

    def make_app(i):
        class Client(NumPyClient):
            def fit(self, parameters, config):
                return update(i, parameters), 10 * (i + 1), {"node": i}

        def failing(msg, ctxt, call_next):
            cfg = msg.content.config_records.get(RECORD_KEY_CONFIGS)
            if i == drop and cfg is not None and cfg.get("stage") == "collect_masked_vectors":
                raise RuntimeError(f"node {i} drops")
            return call_next(msg, ctxt)

        return ClientApp(client_fn=lambda context: Client().to_client(), mods=[failing, secaggplus_mod])

    apps = {100 + i: make_app(i) for i in range(n)}
    for line in sys.stdin:
        msg = dec(line.strip())
        nid = msg.metadata.dst_node_id
        ctx = contexts.setdefault(
            nid, Context(run_id=msg.metadata.run_id, node_id=nid, node_config={}, state=RecordDict(), run_config={})
        )
        try:
            reply = apps[nid](msg, ctx)
        except Exception as e:  # pylint: disable=broad-except
            reply = Message(Error(code=2, reason=repr(e)), reply_to=msg)
        print(enc(reply), flush=True)


class StdioGrid(Grid):
    def __init__(self, n):
        self._run = Run.create_empty(run_id=7)
        self._nodes = [100 + i for i in range(n)]
        self._seq = 0

    def set_run(self, run_id):
        pass

    @property
    def run(self):
        return self._run

    def create_message(self, content, message_type, dst_node_id, group_id, ttl=None):
        return Message(content=content, dst_node_id=dst_node_id, message_type=message_type, group_id=group_id)

    def get_node_ids(self):
        return list(self._nodes)

    def push_messages(self, messages):
        raise NotImplementedError

    def pull_messages(self, message_ids):
        raise NotImplementedError

    def send_and_receive(self, messages, *, timeout=None):
        out = []
        for m in messages:
            self._seq += 1
            m.metadata.__dict__["_run_id"] = 7
            m.metadata.__dict__["_src_node_id"] = 1
            m.metadata.__dict__["_message_id"] = f"{self._seq:064x}"
            out.append(enc(m))
        print(json.dumps({"send": out}), flush=True)
        replies = json.loads(sys.stdin.readline())
        return [dec(r) for r in replies]


def server(n, rounds):
    strategy = FedAvg(
        fraction_fit=1.0,
        fraction_evaluate=0.0,
        min_fit_clients=n,
        min_available_clients=n,
        initial_parameters=ndarrays_to_parameters(INITIAL),
    )
    ctx = Context(run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config={})
    legacy = LegacyContext(ctx, config=ServerConfig(num_rounds=rounds), strategy=strategy)
    workflow = DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(num_shares=n, reconstruction_threshold=2))
    workflow(StdioGrid(n), legacy)
    from flwr.common import recorddict_compat as compat

    params = compat.arrayrecord_to_parameters(legacy.state.array_records["parameters"], keep_input=True)
    print(json.dumps({"done": [a.reshape(-1).tolist() for a in parameters_to_ndarrays(params)]}), flush=True)


if sys.argv[1] == "nodes":
    nodes(int(sys.argv[2]), int(sys.argv[3]))
else:
    server(int(sys.argv[2]), int(sys.argv[3]))

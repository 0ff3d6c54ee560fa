"""Record/object interop vectors for flwr-ts, computed by the pinned Python flwr.

Usage (run by packages/flwr-core/test/objects-interop.test.ts):

  python record_vectors.py gen <seed> <chunk_size> <big 0|1>
      Generate random Messages covering every record value kind and dtype, deflate them with
      Flower, and print JSON {"cases": [{"desc", "root", "objects": {id: base64}}]}.

  python record_vectors.py check <chunk_size>   (JSON on stdin, same shape)
      For each case produced by flwr-ts: verify every object's SHA-256 and head, inflate the
      message with Flower, compare it with the description, re-deflate the description with
      Flower and compare every object byte for byte. Prints {"results": [{"ok", "problems"}]}.

The chunk size is set through FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE before flwr is imported, since
Flower reads it at import time.

Description format: floats are 16 hex digits of the big-endian IEEE-754 bits, ints are decimal
strings, bytes and array data are base64 (array data: raw little-endian C-order elements).
"""

import base64
import json
import os
import random
import struct
import sys

mode = sys.argv[1]
CHUNK = int(sys.argv[3] if mode == "gen" else sys.argv[2])
os.environ["FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE"] = str(CHUNK)

import numpy as np  # noqa: E402

from flwr.app import Metadata  # noqa: E402
from flwr.common import (  # noqa: E402
    Array,
    ArrayRecord,
    ConfigRecord,
    Error,
    MetricRecord,
    RecordDict,
)
from flwr.common.constant import FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE  # noqa: E402
from flwr.common.message import make_message  # noqa: E402
from flwr.supercore.inflatable.inflatable_object import (  # noqa: E402
    get_all_nested_objects,
    get_object_id,
)
from flwr.supercore.inflatable.inflatable_utils import (  # noqa: E402
    inflate_object_from_contents,
    validate_object_content,
)

assert FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE == CHUNK

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "uint16", "uint32", "uint64", "bool"]
SHAPES = [(), (0,), (1,), (3,), (2, 3), (1, 2, 3), (4, 0, 2), (7,), (2, 2, 2, 2)]
KEYS = ["", "w", "layer.0.weight", "ключ", "名前", "🔥emoji", 'quo"te', "back\\slash",
        "tab\there", "nl\nx", "ctl\x01\x1f", "del\x7f", "1", "0", "10", "é", "a b"]

b64 = lambda b: base64.b64encode(bytes(b)).decode("ascii")  # noqa: E731
unb64 = base64.b64decode
fhex = lambda f: struct.pack(">d", f).hex()  # noqa: E731
unfhex = lambda h: struct.unpack(">d", bytes.fromhex(h))[0]  # noqa: E731

INT_SPECIAL = [0, 1, -1, 2**63 - 1, -(2**63), 10, -123456789]  # uint64 values: kind "uint"
FLOAT_SPECIAL = [0.0, -0.0, 0.1, 1.0, -2.5, float("inf"), float("-inf"), float("nan"), 1e308, 5e-324]


# ---------------------------------------------------------------- description <-> Flower

def value_from_desc(d):
    t, v = d["t"], d.get("v")
    if t == "int":
        return int(v)
    if t == "float":
        return unfhex(v)
    if t == "bool":
        return bool(v)
    if t == "str":
        return v
    if t == "bytes":
        return unb64(v)
    if t == "int_list":
        return [int(x) for x in v]
    if t == "float_list":
        return [unfhex(x) for x in v]
    if t == "bool_list":
        return [bool(x) for x in v]
    if t == "str_list":
        return list(v)
    if t == "bytes_list":
        return [unb64(x) for x in v]
    if t == "empty_list":
        return []
    raise ValueError(f"unknown value type {t}")


def array_from_desc(d):
    dt = np.dtype(d["dtype"]).newbyteorder("<")
    arr = np.frombuffer(unb64(d["data"]), dtype=dt).reshape(tuple(d["shape"]))
    return Array(arr)


def record_from_desc(d):
    if d["t"] == "array":
        return ArrayRecord({k: array_from_desc(a) for k, a in d["items"]})
    if d["t"] == "metric":
        return MetricRecord({k: value_from_desc(v) for k, v in d["items"]})
    return ConfigRecord({k: value_from_desc(v) for k, v in d["items"]})


def message_from_desc(d):
    m = d["metadata"]
    md = Metadata(
        run_id=int(m["run_id"]), message_id="", src_node_id=int(m["src"]),
        dst_node_id=int(m["dst"]), reply_to_message_id=m["reply_to"], group_id=m["group_id"],
        created_at=unfhex(m["created_at"]), ttl=unfhex(m["ttl"]), message_type=m["message_type"],
    )
    if d["error"] is not None:
        return make_message(md, error=Error(int(d["error"]["code"]), d["error"]["reason"] or None))
    return make_message(md, content=RecordDict({k: record_from_desc(r) for k, r in d["content"]}))


# ---------------------------------------------------------------- canonical comparison

def canon_value(v):
    if isinstance(v, list):
        return ("list", tuple(canon_value(x) for x in v))
    if isinstance(v, float):
        return ("float", struct.pack(">d", v))
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return ("bytes", bytes(v))
    return (type(v).__name__, v)


def canon_record(r):
    if isinstance(r, ArrayRecord):
        return ("array", tuple((k, a.dtype, tuple(a.shape), a.stype, bytes(a.data)) for k, a in r.items()))
    kind = "metric" if isinstance(r, MetricRecord) else "config"
    return (kind, tuple((k, canon_value(v)) for k, v in r.items()))


def canon_message(msg):
    m = msg.metadata
    meta = (m.run_id, m.src_node_id, m.dst_node_id, m.reply_to_message_id, m.group_id,
            struct.pack(">d", m.ttl), struct.pack(">d", m.created_at), m.message_type)
    if msg.has_error():
        return (meta, "error", msg.error.code, msg.error.reason)
    return (meta, "content", tuple((k, canon_record(r)) for k, r in msg.content.items()))


# ---------------------------------------------------------------- random generation

def rand_int(rng):
    return rng.choice(INT_SPECIAL) if rng.random() < 0.5 else rng.randint(-(2**63), 2**63 - 1)


def rand_float(rng):
    return rng.choice(FLOAT_SPECIAL) if rng.random() < 0.4 else rng.uniform(-1e6, 1e6)


def rand_str(rng):
    return rng.choice(KEYS) + "".join(rng.choice("abcé漢🔥\"\\\n") for _ in range(rng.randint(0, 5)))


def rand_value(rng, config):
    kinds = ["int", "float", "int_list", "float_list", "uint", "uint_list", "empty_list"]
    if config:
        kinds += ["bool", "str", "bytes", "bool_list", "str_list", "bytes_list"]
    k = rng.choice(kinds)
    n = rng.randint(1, 6)
    if k == "int":
        return {"t": "int", "v": str(rand_int(rng))}
    if k == "uint":
        return {"t": "int", "v": str(rng.randint(2**63, 2**64 - 1))}
    if k == "float":
        return {"t": "float", "v": fhex(rand_float(rng))}
    if k == "int_list":
        return {"t": "int_list", "v": [str(rand_int(rng)) for _ in range(n)]}
    if k == "uint_list":
        return {"t": "int_list", "v": [str(rng.randint(0, 2**64 - 1)) for _ in range(n)] + [str(2**64 - 1)]}
    if k == "float_list":
        return {"t": "float_list", "v": [fhex(rand_float(rng)) for _ in range(n)]}
    if k == "empty_list":
        return {"t": "empty_list"}
    if k == "bool":
        return {"t": "bool", "v": rng.random() < 0.5}
    if k == "str":
        return {"t": "str", "v": rand_str(rng)}
    if k == "bytes":
        return {"t": "bytes", "v": b64(rng.randbytes(rng.randint(0, 20)))}
    if k == "bool_list":
        return {"t": "bool_list", "v": [rng.random() < 0.5 for _ in range(n)]}
    if k == "str_list":
        return {"t": "str_list", "v": [rand_str(rng) for _ in range(n)] + [""]}
    return {"t": "bytes_list", "v": [b64(rng.randbytes(rng.randint(0, 9))) for _ in range(n)] + [b64(b"")]}


def rand_array(rng, dtype=None, shape=None):
    dtype = dtype or rng.choice(DTYPES)
    shape = shape if shape is not None else rng.choice(SHAPES)
    size = int(np.prod(shape)) if shape else 1
    item = np.dtype(dtype).itemsize
    raw = bytes(rng.randint(0, 1) for _ in range(size)) if dtype == "bool" else rng.randbytes(size * item)
    return {"dtype": dtype, "shape": list(shape), "data": b64(raw)}


def rand_message(rng, idx, big):
    content = []
    if idx == 0:
        # Every dtype once, 0-d and empty shapes included.
        items = [[f"{d}-{i}", rand_array(rng, d, s)] for i, s in enumerate([(), (0,), (2, 3)]) for d in DTYPES]
        content.append(["arrays", {"t": "array", "items": items}])
    for _ in range(rng.randint(1, 4)):
        key = rand_str(rng)
        kind = rng.choice(["array", "metric", "config"])
        n = rng.randint(0, 6)
        if kind == "array":
            items = [[rand_str(rng), rand_array(rng)] for _ in range(n)]
        else:
            items = [[rand_str(rng), rand_value(rng, kind == "config")] for _ in range(n)]
        content.append([key, {"t": kind, "items": items}])
    # The same record twice under different names (one child object, two references).
    if content:
        content.append(["dup-" + content[-1][0], content[-1][1]])
    if big:
        zeros = np.zeros(2 * 1024 * 1024 + 3, dtype=np.float64)  # > 16 MiB: repeated identical chunks
        rnd = np.frombuffer(rng.randbytes(6 * 1024 * 1024 + 16), dtype=np.float32)  # > 5 MiB
        content.append(["big", {"t": "array", "items": [
            ["zeros", {"dtype": "float64", "shape": [zeros.size], "data": b64(zeros.tobytes())}],
            ["random", {"dtype": "float32", "shape": [rnd.size // 4, 4], "data": b64(rnd.tobytes())}],
        ]}])
    meta = {
        "run_id": str(rng.choice([0, 123, 2**64 - 1, rng.randint(0, 2**64 - 1)])),
        "src": str(rng.choice([0, 1, 2**64 - 1])),
        "dst": str(rng.randint(0, 2**64 - 1)),
        "reply_to": rng.choice(["", "ab" * 32]),
        "group_id": rng.choice(["", "1", "round ☃"]),
        "ttl": fhex(rng.choice([43200.0, 0.0, 1.5])),
        "created_at": fhex(rng.choice([1774800000.0, 1774800000.123456, 0.0])),
        "message_type": rng.choice(["train", "evaluate", "query", "system", "train.custom_1", "query.ä"]),
    }
    error = None
    if idx % 5 == 4:
        error = {"code": str(rng.choice([0, 2, 8, -5, 2**63 - 1])), "reason": rng.choice(["", "boom ☠"])}
    return {"metadata": meta, "error": error, "content": None if error else content}


def deflate_all(msg):
    return {oid: obj.deflate() for oid, obj in get_all_nested_objects(msg).items()}


def gen(seed, big):
    rng = random.Random(seed)
    cases = []
    for i in range(6):
        desc = rand_message(rng, i, big and i == 1)
        msg = message_from_desc(desc)
        objs = deflate_all(msg)
        cases.append({"desc": desc, "root": msg.object_id, "objects": {k: b64(v) for k, v in objs.items()}})
    json.dump({"cases": cases}, sys.stdout)


def check():
    data = json.load(sys.stdin)
    results = []
    for case in data["cases"]:
        problems = []
        objects = {k: unb64(v) for k, v in case["objects"].items()}
        for oid, content in objects.items():
            if get_object_id(content) != oid:
                problems.append(f"{oid}: hash mismatch")
            try:
                validate_object_content(content)
            except Exception as err:  # noqa: BLE001
                problems.append(f"{oid}: {err}")
        expected = message_from_desc(case["desc"])
        try:
            inflated = inflate_object_from_contents(case["root"], dict(objects), keep_object_contents=True)
            if canon_message(inflated) != canon_message(expected):
                problems.append("inflated message differs from the description")
        except Exception as err:  # noqa: BLE001
            problems.append(f"inflate failed: {type(err).__name__}: {err}")
        if expected.object_id != case["root"]:
            problems.append(f"root id {case['root']} but Flower computes {expected.object_id}")
        mine = deflate_all(expected)
        if set(mine) != set(objects):
            problems.append(f"object sets differ: only Flower {sorted(set(mine) - set(objects))[:3]}, "
                            f"only flwr-ts {sorted(set(objects) - set(mine))[:3]}")
        for oid, content in mine.items():
            if oid in objects and objects[oid] != content:
                problems.append(f"{oid}: bytes differ")
        results.append({"ok": not problems, "problems": problems})
    json.dump({"results": results}, sys.stdout)


if mode == "gen":
    gen(int(sys.argv[2]), sys.argv[4] == "1")
elif mode == "check":
    check()
else:
    raise SystemExit(f"unknown mode {mode}")

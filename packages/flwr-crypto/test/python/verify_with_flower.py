"""Checks flwr-ts output with Python Flower's own code paths.

stdin: JSON {"now": iso, "cases": [{"pem", "ts", "sig"}], "keys": [{"private", "public", "pem"}]}
(pem and sig base64). Signatures go through Flower's NodeAuthServerInterceptor with
its clock pinned to "now"; key files through the SuperNode's and the CLI's loaders.
stdout: JSON {"cases": ["ok" | abort message], "keys": [{...}]}.
"""
import argparse
import base64
import collections
import datetime
import json
import sys
from pathlib import Path

import grpc

import flwr.server.superlink.fleet.grpc_rere.node_auth_server_interceptor as server_mod
from flwr.cli.supernode.register import try_load_public_key
from flwr.proto.fleet_pb2 import ActivateNodeRequest  # pylint: disable=E0611
from flwr.supercore.primitives.asymmetric import bytes_to_public_key, public_key_to_bytes, verify_signature
from flwr.supernode.cli.flower_supernode import _try_setup_client_authentication

request = json.load(sys.stdin)
fixed_now = datetime.datetime.fromisoformat(request["now"])
server_mod.now = lambda: fixed_now

Details = collections.namedtuple("Details", ["method", "invocation_metadata"])


class Aborted(Exception):
    pass


class Context:
    def abort(self, code, message):
        raise Aborted(f"{code.name}: {message}")


def passthrough(_details):
    return grpc.unary_unary_rpc_method_handler(lambda req, ctx: "reached")


interceptor = server_mod.NodeAuthServerInterceptor(state_factory=None)
results = []
for case in request["cases"]:
    pem = base64.b64decode(case["pem"])
    sig = base64.b64decode(case["sig"])
    metadata = (
        ("flwr-public-key-bin", pem),
        ("flwr-timestamp", case["ts"]),
        ("flwr-signature-bin", sig),
    )
    try:
        handler = interceptor.intercept_service(
            passthrough, Details("/flwr.proto.Fleet/ActivateNode", metadata)
        )
        # Accepted requests are wrapped; rejected ones get a terminator that aborts.
        try:
            reply = handler.unary_unary(ActivateNodeRequest(), Context())
            results.append("ok" if reply == "reached" else f"unexpected: {reply}")
        except Aborted as err:
            results.append(str(err))
    except Exception as err:  # Flower lets malformed input escape
        results.append(f"error: {type(err).__name__}")

keys = []
for key in request["keys"]:
    pair = _try_setup_client_authentication(
        argparse.Namespace(auth_supernode_private_key=key["private"], auth_supernode_public_key=None)
    )
    supernode_pem = public_key_to_bytes(pair[1]).decode()
    cli_pem = try_load_public_key(Path(key["public"])).decode()
    reparsed = public_key_to_bytes(bytes_to_public_key(base64.b64decode(key["pem"]))).decode()
    keys.append({"supernode": supernode_pem, "cli": cli_pem, "reparsed": reparsed, "curve": pair[0].curve.name})

print(json.dumps({"cases": results, "keys": keys}))

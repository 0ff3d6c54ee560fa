"""Produces key material and signed metadata with Python Flower for flwr-ts to check.

argv[1]: output directory. stdout: JSON list, one entry per curve, with the PEM
Flower derives (public_key_to_bytes), the private key written as OpenSSH, PKCS#8 and
TraditionalOpenSSL (SEC1) files, and metadata from Flower's NodeAuthClientInterceptor.
Also formats and parses timestamps with Python's datetime for comparison.
"""
import collections
import datetime
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from flwr.client.grpc_rere_client.node_auth_client_interceptor import NodeAuthClientInterceptor
from flwr.supercore.primitives.asymmetric import public_key_to_bytes

out = Path(sys.argv[1])
Call = collections.namedtuple(
    "Call", ["method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"]
)
entries = []
for curve in (ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()):
    key = ec.generate_private_key(curve)
    files = {}
    for name, fmt in (
        ("openssh", serialization.PrivateFormat.OpenSSH),
        ("pkcs8", serialization.PrivateFormat.PKCS8),
        ("sec1", serialization.PrivateFormat.TraditionalOpenSSL),
    ):
        path = out / f"{curve.name}.{name}"
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()))
        files[name] = str(path)
    ssh_pub = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    interceptor = NodeAuthClientInterceptor(key, key.public_key())
    metadata = []
    for _ in range(3):
        md = interceptor.intercept_unary_unary(
            lambda details, req: details.metadata,
            Call("/flwr.proto.Fleet/PullMessages", None, None, None, None, None),
            None,
        )
        metadata.append({k: (v.hex() if isinstance(v, bytes) else v) for k, v in md})
    entries.append(
        {
            "curve": curve.name,
            "pem": public_key_to_bytes(key.public_key()).decode(),
            "sshPublic": ssh_pub,
            "files": files,
            "metadata": metadata,
        }
    )

micros = json.loads(sys.argv[2])
utc = datetime.timezone.utc
formatted = [
    (datetime.datetime(1970, 1, 1, tzinfo=utc) + datetime.timedelta(microseconds=m)).isoformat()
    for m in micros
]
parsed = []
for text in json.loads(sys.argv[3]):
    try:
        dt = datetime.datetime.fromisoformat(text)
        if dt.tzinfo is None:
            parsed.append("naive")
        else:
            delta = dt - datetime.datetime(1970, 1, 1, tzinfo=utc)
            parsed.append((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)
    except ValueError:
        parsed.append(None)
print(json.dumps({"keys": entries, "formatted": formatted, "parsed": parsed}))

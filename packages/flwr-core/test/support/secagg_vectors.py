"""SecAgg+ primitive vectors from the pinned Flower 1.29 (for test/secagg-python.test.ts).

stdin: JSON {"mode": "generate"} or {"mode": "check", ...TS outputs}; stdout: JSON. Bytes are hex.
"""
import base64
import json
import sys

import numpy as np
from cryptography.fernet import Fernet
from Crypto.Protocol import SecretSharing

from flwr.common.secure_aggregation.crypto.shamir import combine_shares, create_shares
from flwr.common.secure_aggregation.crypto.symmetric_encryption import (
    decrypt,
    encrypt,
    generate_shared_key,
)
from flwr.common.secure_aggregation.secaggplus_utils import (
    pseudo_rand_gen,
    share_keys_plaintext_concat,
)
from flwr.supercore.primitives.asymmetric import (
    bytes_to_private_key,
    bytes_to_public_key,
    generate_key_pairs,
    private_key_to_bytes,
    public_key_to_bytes,
)

h = bytes.hex
u = bytes.fromhex
req = json.load(sys.stdin)
out = {}

if req["mode"] == "generate":
    rng = np.random.default_rng(7)
    prg = []
    for seed_len, num_range in [(32, 1 << 32), (44, 1 << 32), (32, 1 << 20), (8, 1000), (4, 2)]:
        seed = rng.bytes(seed_len)
        shapes = [(1,), (3, 4), (), (700,)]
        masks = pseudo_rand_gen(seed, num_range, shapes)
        prg.append(
            {
                "seed": h(seed),
                "num_range": num_range,
                "shapes": [list(s) for s in shapes],
                "masks": [m.reshape(-1).tolist() for m in masks],
            }
        )
    out["prg"] = prg

    # Deterministic pycryptodome split: the coefficient source is a counter.
    counter = [0]

    def fake_rng(n):
        counter[0] += 1
        return bytes((counter[0] * 31 + i * 7) & 0xFF for i in range(n))

    real_rng = SecretSharing.rng
    SecretSharing.rng = fake_rng
    secret = bytes(range(1, 12))  # one chunk after padding: deterministic order
    exact = create_shares(secret, 3, 5)
    SecretSharing.rng = real_rng
    out["shamir_exact"] = {"secret": h(secret), "threshold": 3, "num": 5, "shares": [h(s) for s in exact]}

    sk, pk = generate_key_pairs()
    sk_pem = private_key_to_bytes(sk)
    shares = create_shares(sk_pem, 3, 5)
    out["shamir_random"] = {"secret": h(sk_pem), "shares": [h(s) for s in shares]}

    sk1, pk1 = generate_key_pairs()
    sk2, pk2 = generate_key_pairs()
    shared = generate_shared_key(sk1, pk2)
    out["keys"] = {
        "sk1": h(private_key_to_bytes(sk1)),
        "pk1": h(public_key_to_bytes(pk1)),
        "sk2": h(private_key_to_bytes(sk2)),
        "pk2": h(public_key_to_bytes(pk2)),
        "shared": h(shared),
    }
    plaintext = share_keys_plaintext_concat(2**64 - 5, 12345, b"\x01" * 52, b"\x02" * 324)
    out["plaintext"] = h(plaintext)
    out["token"] = h(encrypt(shared, plaintext))
    iv = bytes(range(16))
    out["token_exact"] = h(Fernet(shared)._encrypt_from_parts(plaintext, 1700000000, iv))
    print(json.dumps(out))
else:
    # Python checks what TS produced.
    ok = {}
    t = req["shamir"]
    ok["shamir"] = [combine_shares([u(s) for s in sub]).hex() for sub in t["subsets"]]
    k = req["keys"]
    ok["shared"] = h(
        generate_shared_key(bytes_to_private_key(u(k["py_sk"])), bytes_to_public_key(u(k["ts_pk"])))
    )
    ok["decrypted"] = h(decrypt(u(req["fernet"]["key"]), u(req["fernet"]["token"])))
    ok["pem_loads"] = bytes_to_private_key(u(k["ts_sk"])).curve.name
    print(json.dumps(ok))

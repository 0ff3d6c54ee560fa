/**
 * SecAgg+ key pairs and pairwise keys, as Flower 1.29 makes them
 * (`flwr.supercore.primitives.asymmetric` and `symmetric_encryption.generate_shared_key`):
 * SECP384R1 key pairs exchanged as PEM (PKCS#8 private, SubjectPublicKeyInfo public); the
 * pairwise key is HKDF-SHA256 (no salt, no info, 32 bytes) of the ECDH shared secret, in URL-safe
 * base64 (a Fernet key, also a mask seed). All node:crypto; no hand-written crypto.
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from "node:crypto";

/** A SecAgg+ key pair, PEM-encoded as Flower sends and stores it. */
export interface SecAggKeyPair {
  /** PKCS#8 PEM of the private key (ASCII bytes). */
  privateKeyPem: Uint8Array;
  /** SubjectPublicKeyInfo PEM of the public key (ASCII bytes). */
  publicKeyPem: Uint8Array;
}

/** A fresh SECP384R1 key pair. */
export function generateSecAggKeyPair(): SecAggKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  return {
    privateKeyPem: new Uint8Array(
      Buffer.from(privateKey.export({ format: "pem", type: "pkcs8" }) as string, "ascii"),
    ),
    publicKeyPem: new Uint8Array(
      Buffer.from(publicKey.export({ format: "pem", type: "spki" }) as string, "ascii"),
    ),
  };
}

function ecKey(pem: Uint8Array, kind: "private" | "public"): KeyObject {
  let key: KeyObject;
  try {
    key =
      kind === "private"
        ? createPrivateKey({ key: Buffer.from(pem), format: "pem" })
        : createPublicKey({ key: Buffer.from(pem), format: "pem" });
  } catch {
    throw new RangeError(`not a PEM-encoded ${kind} key`);
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "secp384r1") {
    throw new RangeError(`the ${kind} key is not a SECP384R1 EC key`);
  }
  return key;
}

/**
 * The pairwise key of a private and a public key: URL-safe base64 (44 ASCII bytes) of
 * HKDF-SHA256(ECDH(private, public)).
 * @throws RangeError when a key is not a PEM SECP384R1 key.
 */
export function deriveSharedKey(privateKeyPem: Uint8Array, publicKeyPem: Uint8Array): Uint8Array {
  const secret = diffieHellman({
    privateKey: ecKey(privateKeyPem, "private"),
    publicKey: ecKey(publicKeyPem, "public"),
  });
  const derived = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), Buffer.alloc(0), 32));
  return new Uint8Array(Buffer.from(derived.toString("base64url") + "=", "ascii"));
}

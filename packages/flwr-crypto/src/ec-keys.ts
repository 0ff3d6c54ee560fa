/**
 * Elliptic-curve keys as Flower uses them: NIST curves, SubjectPublicKeyInfo
 * PEM byte-identical to Python `cryptography`'s
 * `public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)`, and the
 * checks that reject RSA, Ed25519 and non-NIST keys as SuperNode keys.
 */
import { createPublicKey, ECDH, generateKeyPairSync, type KeyObject } from "node:crypto";
import { derOid, derTlv, readDer } from "./der.js";
import { CryptoError } from "./errors.js";
import { encodePem } from "./pem.js";

/** NIST curves Flower accepts for SuperNode public keys (`uses_nist_ec_curve`). */
export type NistCurve = "P-192" | "P-224" | "P-256" | "P-384" | "P-521";

/**
 * Curves usable for a SuperNode key pair: those with an OpenSSH key type
 * (`ecdsa-sha2-nistp256/384/521`), which is how Flower reads SuperNode keys.
 */
export type SuperNodeCurve = "P-256" | "P-384" | "P-521";

/** Static facts about one NIST curve. */
export interface CurveInfo {
  /** NIST name, e.g. `P-384`. */
  readonly name: NistCurve;
  /** OpenSSL / Node.js name, e.g. `secp384r1`. */
  readonly nodeName: string;
  /** Named-curve object identifier. */
  readonly oid: string;
  /** OpenSSH curve identifier (`nistp384`), absent when OpenSSH has no such key type. */
  readonly sshName?: string;
  /** Size of one coordinate / of the private scalar in bytes. */
  readonly byteLength: number;
}

/** The NIST curves, by NIST name. */
export const NIST_CURVES: Readonly<Record<NistCurve, CurveInfo>> = {
  "P-192": { name: "P-192", nodeName: "prime192v1", oid: "1.2.840.10045.3.1.1", byteLength: 24 },
  "P-224": { name: "P-224", nodeName: "secp224r1", oid: "1.3.132.0.33", byteLength: 28 },
  "P-256": {
    name: "P-256",
    nodeName: "prime256v1",
    oid: "1.2.840.10045.3.1.7",
    sshName: "nistp256",
    byteLength: 32,
  },
  "P-384": {
    name: "P-384",
    nodeName: "secp384r1",
    oid: "1.3.132.0.34",
    sshName: "nistp384",
    byteLength: 48,
  },
  "P-521": {
    name: "P-521",
    nodeName: "secp521r1",
    oid: "1.3.132.0.35",
    sshName: "nistp521",
    byteLength: 66,
  },
};

/** Curves accepted for SuperNode key pairs, in preference order. */
export const SUPERNODE_CURVES: readonly SuperNodeCurve[] = ["P-384", "P-256", "P-521"];

const ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";

/**
 * Returns the NIST curve of an EC key, or undefined for non-EC keys and
 * non-NIST curves.
 * @param key - a private or public KeyObject.
 */
export function nistCurveOf(key: KeyObject): CurveInfo | undefined {
  if (key.asymmetricKeyType !== "ec") return undefined;
  const named = key.asymmetricKeyDetails?.namedCurve;
  return Object.values(NIST_CURVES).find((c) => c.nodeName === named);
}

/**
 * Describes a key's type for error messages, e.g. `an RSA key`,
 * `an Ed25519 key`, `an EC key on secp256k1`.
 * @param key - a private or public KeyObject.
 */
export function describeKeyType(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss":
      return "an RSA key";
    case "ed25519":
      return "an Ed25519 key";
    case "ed448":
      return "an Ed448 key";
    case "dsa":
      return "a DSA key";
    case "ec": {
      const curve = nistCurveOf(key);
      return curve
        ? `an EC key on ${curve.name}`
        : `an EC key on ${key.asymmetricKeyDetails?.namedCurve ?? "an unknown curve"}`;
    }
    default:
      return `a ${key.asymmetricKeyType ?? "symmetric"} key`;
  }
}

/**
 * Checks that a key can serve as a SuperNode key: EC on P-256, P-384 or P-521.
 * @param key - the private or public key.
 * @param what - description of its source for the message (e.g. a file name).
 * @returns the key's curve.
 * @throws CryptoError `unsupported-key` otherwise.
 */
export function assertSuperNodeKey(key: KeyObject, what: string): CurveInfo {
  const curve = nistCurveOf(key);
  if (!curve || !(SUPERNODE_CURVES as readonly string[]).includes(curve.name))
    throw new CryptoError(
      "unsupported-key",
      `${what} is ${describeKeyType(key)}; SuperNode keys must be ECDSA on NIST P-384 ` +
        `(or P-256/P-521): create one with \`flwr-ts gen-keys\` or \`ssh-keygen -t ecdsa -b 384 -N ''\``,
    );
  return curve;
}

/**
 * Returns the public point of an EC key in uncompressed form (`04 || X || Y`).
 * @param key - a private or public EC KeyObject on a NIST curve.
 * @throws CryptoError `unsupported-key` for other keys.
 */
export function uncompressedPoint(key: KeyObject): Buffer {
  const curve = nistCurveOf(key);
  if (!curve)
    throw new CryptoError(
      "unsupported-key",
      `expected an EC key on a NIST curve, got ${describeKeyType(key)}`,
    );
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const spki = pub.export({ type: "spki", format: "der" });
  const outer = readDer(spki, 0);
  const algorithm = readDer(spki, outer.start);
  const bits = readDer(spki, algorithm.end);
  if (bits.tag !== 0x03) throw new Error("unexpected SPKI layout");
  const point = spki.subarray(bits.start + 1, bits.end);
  if (point[0] === 0x04) return Buffer.from(point);
  return Buffer.from(
    ECDH.convertKey(point, curve.nodeName, undefined, undefined, "uncompressed") as Buffer,
  );
}

/**
 * Encodes a SubjectPublicKeyInfo (DER) for an uncompressed point on a NIST curve.
 * @param curve - the curve.
 * @param point - uncompressed point `04 || X || Y`.
 */
export function spkiDerFromPoint(curve: NistCurve, point: Uint8Array): Buffer {
  const info = NIST_CURVES[curve];
  const algorithm = derTlv(0x30, Buffer.concat([derOid(ID_EC_PUBLIC_KEY), derOid(info.oid)]));
  const bits = derTlv(0x03, Buffer.concat([Buffer.from([0]), point]));
  return derTlv(0x30, Buffer.concat([algorithm, bits]));
}

/**
 * The SubjectPublicKeyInfo PEM of an EC key, byte-identical to Python
 * `cryptography`'s `public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)`
 * (uncompressed point, 64-character lines, trailing newline). This is the
 * value of `flwr-public-key-bin` and the key the SuperLink stores for a node.
 * @param key - a private or public EC KeyObject on a NIST curve (the public part is used).
 * @throws CryptoError `unsupported-key` for other keys.
 */
export function publicKeyToPem(key: KeyObject): string {
  const curve = nistCurveOf(key);
  if (!curve)
    throw new CryptoError(
      "unsupported-key",
      `expected an EC key on a NIST curve, got ${describeKeyType(key)}`,
    );
  return encodePem("PUBLIC KEY", spkiDerFromPoint(curve.name, uncompressedPoint(key)));
}

/** A private/public EC key pair as Node.js KeyObjects. */
export interface EcKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * Generates an EC key pair (the SuperNode default is P-384, like Flower's
 * `generate_key_pairs()` and `ssh-keygen -t ecdsa -b 384`).
 * @param curve - NIST curve, default `P-384`.
 */
export function generateEcKeyPair(curve: SuperNodeCurve = "P-384"): EcKeyPair {
  return generateKeyPairSync("ec", { namedCurve: NIST_CURVES[curve].nodeName });
}

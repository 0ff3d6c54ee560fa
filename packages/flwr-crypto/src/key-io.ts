/**
 * Reading SuperNode keys from text or files.
 *
 * Private keys: unencrypted OpenSSH (`-----BEGIN OPENSSH PRIVATE KEY-----`,
 * what Flower's `--auth-supernode-private-key` takes), PKCS#8
 * (`-----BEGIN PRIVATE KEY-----`) and SEC1 (`-----BEGIN EC PRIVATE KEY-----`).
 * Public keys: an OpenSSH line (`ecdsa-sha2-nistp384 AAAA…`, what
 * `flwr supernode register` takes) or SubjectPublicKeyInfo PEM.
 *
 * Every failure is a {@link CryptoError} with a one-line message.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { assertSuperNodeKey, describeKeyType, nistCurveOf } from "./ec-keys.js";
import { CryptoError } from "./errors.js";
import { encryptedKeyError, parseOpenSshPrivateKey, parseOpenSshPublicKey } from "./openssh.js";
import { decodePem, firstPemLabel } from "./pem.js";

/** Where a key came from, for error messages. */
export interface KeySource {
  /** Description used in messages, e.g. `keys/client_credentials_1`; default `the key`. */
  readonly source?: string;
  /** The file path, quoted in the advice for encrypted keys. */
  readonly path?: string;
}

function toText(data: string | Uint8Array): string {
  return typeof data === "string" ? data : Buffer.from(data).toString("latin1");
}

/**
 * Reads a key file.
 * @param path - the file to read.
 * @throws CryptoError `file-not-found` when it is missing, unreadable or a directory;
 *   `malformed-key` when it is empty.
 */
export function readKeyFile(path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory, not a key file"
          : code === "EACCES"
            ? "permission denied"
            : ((err as Error).message ?? String(err));
    throw new CryptoError("file-not-found", `cannot read key file ${path}: ${why}`, {
      cause: err,
    });
  }
  if (data.length === 0) throw new CryptoError("malformed-key", `${path} is empty`);
  return data;
}

/**
 * Parses a SuperNode private key: EC on P-256, P-384 or P-521 in unencrypted
 * OpenSSH, PKCS#8 or SEC1 PEM form.
 * @param data - the key text (or file bytes).
 * @param from - where it came from, for error messages.
 * @returns the private KeyObject.
 * @throws CryptoError `encrypted-key`, `unsupported-key` (RSA, Ed25519, other curves)
 *   or `malformed-key` (garbage, truncated, corrupt, a public key instead of a private one).
 */
export function parsePrivateKey(data: string | Uint8Array, from: KeySource = {}): KeyObject {
  const what = from.source ?? from.path ?? "the key";
  const text = toText(data);
  const label = firstPemLabel(text);
  let key: KeyObject;
  if (label === "OPENSSH PRIVATE KEY") {
    key = parseOpenSshPrivateKey(text, what, from.path);
  } else if (label === "ENCRYPTED PRIVATE KEY") {
    throw encryptedKeyError(what, from.path);
  } else if (label === "PRIVATE KEY" || label === "EC PRIVATE KEY" || label === "RSA PRIVATE KEY") {
    const block = decodePem(text, label, what);
    if (block.headers.get("Proc-Type")?.includes("ENCRYPTED"))
      throw encryptedKeyError(what, from.path);
    try {
      key = createPrivateKey({ key: text, format: "pem" });
    } catch (err) {
      throw new CryptoError(
        "malformed-key",
        `${what}: the ${label} PEM block could not be parsed; the file is damaged or not a key`,
        { cause: err },
      );
    }
  } else if (label === "PUBLIC KEY" || /^\s*(ecdsa-sha2-|ssh-|sk-)/.test(text)) {
    throw new CryptoError(
      "malformed-key",
      `${what} holds a public key; pass the private key file (e.g. client_credentials_1, not the .pub)`,
    );
  } else {
    throw new CryptoError(
      "malformed-key",
      `${what} is not a private key: expected an OpenSSH ("-----BEGIN OPENSSH PRIVATE KEY-----"), ` +
        `PKCS#8 or SEC1 PEM key` +
        (label ? `, found "${label}"` : ""),
    );
  }
  assertSuperNodeKey(key, what);
  return key;
}

/**
 * Reads a SuperNode private key file (see {@link parsePrivateKey}).
 * @param path - the key file, e.g. `keys/client_credentials_1`.
 */
export function loadPrivateKey(path: string): KeyObject {
  return parsePrivateKey(readKeyFile(path), { source: path, path });
}

/**
 * Parses a SuperNode public key from an OpenSSH line (`ecdsa-sha2-nistp384 AAAA…`)
 * or a SubjectPublicKeyInfo PEM. OpenSSH lines may use P-256/P-384/P-521; a PEM
 * may use any NIST curve, as Flower's `uses_nist_ec_curve` allows.
 * @param data - the key text (or file bytes).
 * @param from - where it came from, for error messages.
 * @returns the public KeyObject.
 * @throws CryptoError `unsupported-key` or `malformed-key`.
 */
export function parsePublicKey(data: string | Uint8Array, from: KeySource = {}): KeyObject {
  const what = from.source ?? from.path ?? "the key";
  const text = toText(data);
  const label = firstPemLabel(text);
  if (label === undefined) return parseOpenSshPublicKey(text, what);
  if (label !== "PUBLIC KEY")
    throw new CryptoError(
      "malformed-key",
      label.includes("PRIVATE")
        ? `${what} holds a private key; pass the public key (the .pub file or a PUBLIC KEY PEM)`
        : `${what}: expected an OpenSSH public key line or a "PUBLIC KEY" PEM, found "${label}"`,
    );
  decodePem(text, label, what);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: "pem" });
  } catch (err) {
    throw new CryptoError(
      "malformed-key",
      `${what}: the PUBLIC KEY PEM block could not be parsed; the file is damaged or not a key`,
      { cause: err },
    );
  }
  if (!nistCurveOf(key))
    throw new CryptoError(
      "unsupported-key",
      `${what} is ${describeKeyType(key)}; SuperNode keys must be ECDSA on a NIST curve (P-384 recommended)`,
    );
  return key;
}

/**
 * Reads a SuperNode public key file (see {@link parsePublicKey}).
 * @param path - the key file, e.g. `keys/client_credentials_1.pub`.
 */
export function loadPublicKey(path: string): KeyObject {
  return parsePublicKey(readKeyFile(path), { source: path, path });
}

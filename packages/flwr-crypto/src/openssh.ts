/**
 * OpenSSH key formats for ECDSA keys: the `openssh-key-v1` private key file
 * (`-----BEGIN OPENSSH PRIVATE KEY-----`) and the one-line public key
 * (`ecdsa-sha2-nistp384 AAAA… comment`), laid out byte for byte as
 * `ssh-keygen -t ecdsa -b 384 -N "" -C ""` writes them.
 *
 * Why hand-written: the files must load in Python Flower (`cryptography`'s
 * `load_ssh_private_key`/`load_ssh_public_key`) and match what `ssh-keygen` writes, Node's
 * `crypto` exports no OpenSSH format, and the layout is small and fixed (the `openssh-key-v1`
 * container of OpenSSH's PROTOCOL.key over the RFC 4251 encoding in `ssh-wire.ts`): a library
 * would bring more code than this file and its own choices of check-int, comment and padding.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { assertSuperNodeKey, type CurveInfo, NIST_CURVES, uncompressedPoint } from "./ec-keys.js";
import { CryptoError } from "./errors.js";
import { decodePem, encodePem } from "./pem.js";
import { SshReader, sshMpint, sshString, sshUint32 } from "./ssh-wire.js";

const MAGIC = Buffer.from("openssh-key-v1\0", "latin1");
const LABEL = "OPENSSH PRIVATE KEY";
/** Cipher block size used for padding an unencrypted key (OpenSSH uses 8 for "none"). */
const BLOCK_SIZE = 8;

function curveForSshType(keyType: string): CurveInfo | undefined {
  return Object.values(NIST_CURVES).find(
    (c) => c.sshName !== undefined && keyType === `ecdsa-sha2-${c.sshName}`,
  );
}

function describeSshType(keyType: string): string {
  if (keyType === "ssh-rsa") return "an RSA key (ssh-rsa)";
  if (keyType === "ssh-ed25519") return "an Ed25519 key (ssh-ed25519)";
  if (keyType === "ssh-dss") return "a DSA key (ssh-dss)";
  if (keyType.startsWith("sk-")) return `a security-key-backed key (${keyType})`;
  return `a key of type ${keyType}`;
}

function unsupportedSshType(what: string, keyType: string): CryptoError {
  return new CryptoError(
    "unsupported-key",
    `${what} is ${describeSshType(keyType)}; SuperNode keys must be ECDSA on NIST P-384 ` +
      `(or P-256/P-521): create one with \`flwr-ts gen-keys\` or \`ssh-keygen -t ecdsa -b 384 -N ''\``,
  );
}

/**
 * The error for an encrypted key file, with the command that removes the passphrase.
 * @param what - description of the source.
 * @param path - the file path, if known.
 */
export function encryptedKeyError(what: string, path?: string): CryptoError {
  return new CryptoError(
    "encrypted-key",
    `${what} is encrypted; flwr-ts needs an unencrypted key (ssh-keygen -p -N '' -f ${path ?? "FILE"})`,
  );
}

function sshKeyType(curve: CurveInfo): string {
  return `ecdsa-sha2-${curve.sshName}`;
}

function jwkCoordinates(curve: CurveInfo, point: Buffer): { crv: string; x: string; y: string } {
  const n = curve.byteLength;
  return {
    crv: curve.name,
    x: point.subarray(1, 1 + n).toString("base64url"),
    y: point.subarray(1 + n, 1 + 2 * n).toString("base64url"),
  };
}

function publicKeyFromPoint(curve: CurveInfo, point: Buffer, what: string): KeyObject {
  if (point.length !== 1 + 2 * curve.byteLength || point[0] !== 0x04)
    throw new CryptoError(
      "malformed-key",
      `${what}: the ${curve.name} public point is not a valid uncompressed point`,
    );
  try {
    return createPublicKey({ key: { kty: "EC", ...jwkCoordinates(curve, point) }, format: "jwk" });
  } catch (err) {
    throw new CryptoError("malformed-key", `${what}: the public point is not on ${curve.name}`, {
      cause: err,
    });
  }
}

/**
 * The OpenSSH public key blob of an EC key: `string type, string curve, string Q`.
 * @param key - private or public EC KeyObject on P-256, P-384 or P-521.
 */
export function openSshPublicBlob(key: KeyObject): Buffer {
  const curve = assertSuperNodeKey(key, "the key");
  return Buffer.concat([
    sshString(sshKeyType(curve)),
    sshString(curve.sshName!),
    sshString(uncompressedPoint(key)),
  ]);
}

/**
 * Formats an EC public key as an OpenSSH public key line, exactly as
 * `ssh-keygen` writes a `.pub` file: `type base64 comment\n` (with the
 * separating space even when the comment is empty).
 * @param key - private or public EC KeyObject on P-256, P-384 or P-521.
 * @param comment - the comment field, default empty (`ssh-keygen -C ""`).
 */
export function formatOpenSshPublicKey(key: KeyObject, comment = ""): string {
  const curve = assertSuperNodeKey(key, "the key");
  return `${sshKeyType(curve)} ${openSshPublicBlob(key).toString("base64")} ${comment}\n`;
}

/**
 * Encodes an EC private key as an unencrypted OpenSSH private key file
 * (`openssh-key-v1`, cipher and KDF `none`, one key, random check integers,
 * padding 1, 2, 3, … to 8 bytes, base64 in 70-character lines).
 * @param key - EC private KeyObject on P-256, P-384 or P-521.
 * @param comment - the key comment, default empty.
 */
export function formatOpenSshPrivateKey(key: KeyObject, comment = ""): string {
  if (key.type !== "private")
    throw new CryptoError("invalid-argument", "formatOpenSshPrivateKey needs a private key");
  const curve = assertSuperNodeKey(key, "the key");
  const jwk = key.export({ format: "jwk" });
  if (typeof jwk.d !== "string") throw new Error("EC private key without a private scalar");
  const d = Buffer.from(jwk.d, "base64url");
  const check = randomBytes(4).readUInt32BE();
  const privateSection = Buffer.concat([
    sshUint32(check),
    sshUint32(check),
    sshString(sshKeyType(curve)),
    sshString(curve.sshName!),
    sshString(uncompressedPoint(key)),
    sshMpint(d),
    sshString(comment),
  ]);
  const padLength = (BLOCK_SIZE - (privateSection.length % BLOCK_SIZE)) % BLOCK_SIZE;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
  const body = Buffer.concat([
    MAGIC,
    sshString("none"),
    sshString("none"),
    sshString(""),
    sshUint32(1),
    sshString(openSshPublicBlob(key)),
    sshString(Buffer.concat([privateSection, padding])),
  ]);
  return encodePem(LABEL, body, 70);
}

/**
 * Parses an unencrypted OpenSSH private key file holding an ECDSA key on
 * P-256, P-384 or P-521.
 * @param text - the file's content.
 * @param what - description of the source for error messages (e.g. the path).
 * @param path - the file path, if any, quoted in the advice for encrypted keys.
 * @throws CryptoError `encrypted-key`, `unsupported-key` or `malformed-key`.
 */
export function parseOpenSshPrivateKey(text: string, what: string, path?: string): KeyObject {
  const { der } = decodePem(text, LABEL, what);
  try {
    const r = new SshReader(der);
    if (!r.raw(MAGIC.length).equals(MAGIC))
      throw new CryptoError("malformed-key", `${what}: not an openssh-key-v1 private key`);
    const cipher = r.text();
    const kdf = r.text();
    r.string(); // KDF options
    if (cipher !== "none" || kdf !== "none") throw encryptedKeyError(what, path);
    const count = r.uint32();
    if (count !== 1)
      throw new CryptoError(
        "malformed-key",
        `${what}: holds ${count} keys; a SuperNode key file must hold exactly one`,
      );
    const publicBlob = new SshReader(r.string());
    const keyType = publicBlob.text();
    const curve = curveForSshType(keyType);
    if (!curve) throw unsupportedSshType(what, keyType);
    const p = new SshReader(r.string());
    if (p.remaining % BLOCK_SIZE !== 0)
      throw new CryptoError("malformed-key", `${what}: private section has a bad length`);
    const check1 = p.uint32();
    const check2 = p.uint32();
    if (check1 !== check2)
      throw new CryptoError("malformed-key", `${what}: check integers differ; the key is corrupt`);
    const innerType = p.text();
    if (innerType !== keyType)
      throw new CryptoError(
        "malformed-key",
        `${what}: private part is ${innerType} but the public part is ${keyType}`,
      );
    if (p.text() !== curve.sshName)
      throw new CryptoError("malformed-key", `${what}: curve name does not match ${keyType}`);
    const point = p.string();
    const dRaw = p.string();
    p.string(); // comment
    const padding = p.rest();
    if (padding.some((b, i) => b !== i + 1))
      throw new CryptoError("malformed-key", `${what}: bad padding; the key is corrupt`);
    const stripped = dRaw.subarray(dRaw.findIndex((b) => b !== 0));
    if (dRaw.every((b) => b === 0) || stripped.length > curve.byteLength)
      throw new CryptoError("malformed-key", `${what}: the private scalar is out of range`);
    const d = Buffer.concat([Buffer.alloc(curve.byteLength - stripped.length), stripped]);
    const publicKey = publicKeyFromPoint(curve, point, what);
    const ecdh = createECDH(curve.nodeName);
    ecdh.setPrivateKey(d);
    if (!ecdh.getPublicKey().equals(point))
      throw new CryptoError(
        "malformed-key",
        `${what}: the public and private parts do not belong together; the key is corrupt`,
      );
    const jwk = publicKey.export({ format: "jwk" });
    return createPrivateKey({ key: { ...jwk, d: d.toString("base64url") }, format: "jwk" });
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new CryptoError(
      "malformed-key",
      `${what}: truncated or corrupt OpenSSH private key (${(err as Error).message})`,
      { cause: err },
    );
  }
}

/**
 * Parses an OpenSSH public key line (`ecdsa-sha2-nistp384 AAAA… [comment]`),
 * as found in a `.pub` file.
 * @param text - the line (surrounding blank lines are ignored).
 * @param what - description of the source for error messages.
 * @throws CryptoError `unsupported-key` or `malformed-key`.
 */
export function parseOpenSshPublicKey(text: string, what: string): KeyObject {
  const line = text.split(/\r?\n/).find((l) => l.trim().length > 0) ?? "";
  const m = /^\s*(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s.*)?$/.exec(line);
  // An SSH key type names an algorithm (`ssh-rsa`, `ecdsa-sha2-nistp384`, `sk-…@openssh.com`);
  // any other first word ("not a key at all") is not a key line of an unsupported type.
  if (!m || !/^(ssh-|ecdsa-sha2-|sk-|rsa-sha2-)[a-z0-9@.-]+$/.test(m[1]!))
    throw new CryptoError(
      "malformed-key",
      `${what}: not an OpenSSH public key line (expected "ecdsa-sha2-nistp384 AAAA…")`,
    );
  const lineType = m[1]!;
  const curve = curveForSshType(lineType);
  if (!curve) throw unsupportedSshType(what, lineType);
  try {
    const r = new SshReader(Buffer.from(m[2]!, "base64"));
    const blobType = r.text();
    if (blobType !== lineType)
      throw new CryptoError(
        "malformed-key",
        `${what}: the line says ${lineType} but the key data is ${blobType}`,
      );
    if (r.text() !== curve.sshName)
      throw new CryptoError("malformed-key", `${what}: curve name does not match ${lineType}`);
    const point = r.string();
    if (r.remaining !== 0)
      throw new CryptoError("malformed-key", `${what}: trailing bytes after the public key`);
    return publicKeyFromPoint(curve, point, what);
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new CryptoError("malformed-key", `${what}: truncated or corrupt OpenSSH public key`, {
      cause: err,
    });
  }
}

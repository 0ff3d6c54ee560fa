/**
 * The browser SuperNode's P-384 key pair with WebCrypto: generated in the page (the private key
 * non-extractable: script can sign with it but never read it) or imported from a PKCS#8 PEM file,
 * and the public key in the two forms Flower needs: the SPKI PEM every request carries
 * (`flwr-public-key`, byte-identical to what `flwr supernode register` stores: 64-column base64
 * lines and a final newline, as Node's and `cryptography`'s PEM writers make them) and the
 * OpenSSH line (`ecdsa-sha2-nistp384 AAAA… comment`) the operator registers.
 */
import { fromBase64, toBase64 } from "./base64.js";

/** WebCrypto's parameters of Flower's SuperNode key: ECDSA on P-384. */
export const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-384" } as const;

/** A SuperNode key pair and its public key in Flower's forms. */
export interface SuperNodeKey {
  /** The signing key (non-extractable). */
  readonly privateKey: CryptoKey;
  /** The public key. */
  readonly publicKey: CryptoKey;
  /** SPKI PEM text (the `flwr-public-key` header and ActivateNode's `public_key`). */
  readonly publicKeyPem: string;
  /** OpenSSH public key line, for `flwr supernode register`. */
  readonly openSshPublicKey: string;
}

/** PEM text of DER bytes, 64-column lines, final newline. */
export function pemOf(label: string, der: Uint8Array): string {
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/**
 * The OpenSSH public key line of a P-384 public key (RFC 5656: key type, curve name, the
 * uncompressed point).
 * @param comment - appended after a space when non-empty.
 */
export async function openSshPublicKey(publicKey: CryptoKey, comment = ""): Promise<string> {
  const point = new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
  const ascii = (s: string) => new TextEncoder().encode(s);
  const parts = [
    sshString(ascii("ecdsa-sha2-nistp384")),
    sshString(ascii("nistp384")),
    sshString(point),
  ];
  const blob = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    blob.set(p, at);
    at += p.length;
  }
  return `ecdsa-sha2-nistp384 ${toBase64(blob)}${comment ? ` ${comment}` : ""}`;
}

/** The {@link SuperNodeKey} of a key pair. */
export async function describeKey(pair: CryptoKeyPair, comment = ""): Promise<SuperNodeKey> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicKeyPem: pemOf("PUBLIC KEY", spki),
    openSshPublicKey: await openSshPublicKey(pair.publicKey, comment),
  };
}

/** A new P-384 key pair whose private key cannot be exported. */
export async function generateSuperNodeKey(comment = ""): Promise<SuperNodeKey> {
  const pair = await crypto.subtle.generateKey(KEY_ALGORITHM, false, ["sign", "verify"]);
  return describeKey(pair, comment);
}

/**
 * Imports a P-384 private key from PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, e.g.
 * `openssl pkcs8 -topk8 -nocrypt`); the kept private key is non-extractable.
 * @throws Error when the text is not an unencrypted PKCS#8 P-384 key.
 */
export async function importSuperNodeKey(pem: string, comment = ""): Promise<SuperNodeKey> {
  const m = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(pem);
  if (!m?.[1])
    throw new Error(
      "not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----); convert an OpenSSH key with: ssh-keygen -p -N '' -m PKCS8 -f <key>",
    );
  const der = fromBase64(m[1]);
  let jwk: JsonWebKey;
  try {
    // Imported once as extractable only to derive the public half (WebCrypto cannot derive it
    // from a non-extractable key); that handle is dropped at once.
    const temp = await crypto.subtle.importKey("pkcs8", der, KEY_ALGORITHM, true, ["sign"]);
    jwk = await crypto.subtle.exportKey("jwk", temp);
  } catch (error) {
    throw new Error(`not a P-384 ECDSA private key: ${(error as Error).message}`);
  }
  const { d: _d, ...pub } = jwk;
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { ...pub, key_ops: ["verify"] },
    KEY_ALGORITHM,
    true,
    ["verify"],
  );
  const privateKey = await crypto.subtle.importKey("pkcs8", der, KEY_ALGORITHM, false, ["sign"]);
  return describeKey({ privateKey, publicKey }, comment);
}

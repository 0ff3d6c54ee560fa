/**
 * PEM-style armor ("-----BEGIN LABEL-----" / base64 / "-----END LABEL-----").
 *
 * Used for SPKI public keys (64-character lines, as OpenSSL and Python
 * `cryptography` write them) and for OpenSSH private keys (70-character lines,
 * as `ssh-keygen` writes them).
 */
import { CryptoError } from "./errors.js";

/** One armored block found in a text. */
export interface PemBlock {
  /** The label between `BEGIN ` and `-----`, e.g. `PUBLIC KEY`. */
  readonly label: string;
  /** RFC 1421 headers (e.g. `Proc-Type: 4,ENCRYPTED`) found before the base64 body. */
  readonly headers: ReadonlyMap<string, string>;
  /** The decoded body. */
  readonly der: Buffer;
}

/**
 * Wraps bytes in PEM armor.
 * @param label - armor label, e.g. `PUBLIC KEY`.
 * @param der - bytes to encode.
 * @param lineLength - base64 characters per line (64 for PEM, 70 for OpenSSH keys).
 * @returns the armored text, ending with a newline.
 */
export function encodePem(label: string, der: Uint8Array, lineLength = 64): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += lineLength) lines.push(b64.slice(i, i + lineLength));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

const BEGIN_RE = /-----BEGIN ([A-Z0-9 ]+)-----/;

/**
 * Returns the label of the first `-----BEGIN …-----` line, or undefined when
 * the text has none.
 * @param text - text to inspect.
 */
export function firstPemLabel(text: string): string | undefined {
  return BEGIN_RE.exec(text)?.[1];
}

/**
 * Decodes the first armored block with the given label.
 * @param text - text holding the block (other text around it is ignored).
 * @param label - expected label.
 * @param what - description of the input for error messages (e.g. a file name).
 * @throws CryptoError `malformed-key` when the block is missing, truncated or not base64.
 */
export function decodePem(text: string, label: string, what: string): PemBlock {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const start = text.indexOf(begin);
  if (start < 0) throw new CryptoError("malformed-key", `${what}: no "${begin}" line found`);
  const stop = text.indexOf(end, start + begin.length);
  if (stop < 0)
    throw new CryptoError(
      "malformed-key",
      `${what}: truncated ${label} (no "${end}" line); the file is incomplete or damaged`,
    );
  const lines = text
    .slice(start + begin.length, stop)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const headers = new Map<string, string>();
  while (lines.length > 0 && lines[0]!.includes(":")) {
    const line = lines.shift()!;
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const body = lines.join("");
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0)
    throw new CryptoError(
      "malformed-key",
      `${what}: the ${label} block is not valid base64; the file is damaged or truncated`,
    );
  return { label, headers, der: Buffer.from(body, "base64") };
}

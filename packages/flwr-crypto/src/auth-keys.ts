/**
 * SuperNode key pairs for node authentication, as the seed's
 * `generate_auth_keys.sh` makes them with `ssh-keygen -t ecdsa -b 384 -N "" -C ""`.
 */
import { join } from "node:path";
import { generateEcKeyPair, publicKeyToPem, type SuperNodeCurve } from "./ec-keys.js";
import { CryptoError } from "./errors.js";
import { formatOpenSshPrivateKey, formatOpenSshPublicKey } from "./openssh.js";
import {
  assertWritable,
  PUBLIC_FILE_MODE,
  SECRET_FILE_MODE,
  writeOutputFiles,
} from "./output-files.js";

/** Options of {@link generateAuthKeys}. */
export interface GenerateAuthKeysOptions {
  /** Directory to write to (created if missing). */
  readonly outDir: string;
  /** Number of key pairs, 1–10000; default 2. */
  readonly count?: number;
  /** File name prefix; files are `<prefix>_<n>` and `<prefix>_<n>.pub`; default `client_credentials`. */
  readonly prefix?: string;
  /** Curve; default P-384 (the only one the Flower docs use). */
  readonly curve?: SuperNodeCurve;
  /** Replace existing files; default false (then nothing is written if any file exists). */
  readonly overwrite?: boolean;
}

/** One generated SuperNode key pair. */
export interface GeneratedAuthKey {
  /** 1-based index `n` in `<prefix>_<n>`. */
  readonly index: number;
  /** Path of the OpenSSH private key file (mode 0600). */
  readonly privateKeyPath: string;
  /** Path of the OpenSSH public key file. */
  readonly publicKeyPath: string;
  /** Content of the private key file. */
  readonly privateKeyOpenSsh: string;
  /** Content of the `.pub` file: `ecdsa-sha2-nistp384 AAAA… \n`. */
  readonly publicKeyOpenSsh: string;
  /** SubjectPublicKeyInfo PEM, the bytes the SuperLink stores and sees in `flwr-public-key-bin`. */
  readonly publicKeyPem: string;
}

/**
 * Generates SuperNode key pairs: `<prefix>_<n>` (unencrypted OpenSSH private
 * key, empty comment, mode 0600) and `<prefix>_<n>.pub` (OpenSSH public line)
 * for n = 1…count. Register the `.pub` files with `flwr supernode register`
 * and start each SuperNode with `--auth-supernode-private-key <prefix>_<n>`.
 * @param options - see {@link GenerateAuthKeysOptions}.
 * @returns the generated keys in index order.
 * @throws CryptoError `invalid-argument` for bad options, `file-exists` when a file
 *   exists and `overwrite` is not set (nothing is written then).
 */
export function generateAuthKeys(options: GenerateAuthKeysOptions): GeneratedAuthKey[] {
  const { outDir, count = 2, prefix = "client_credentials", curve = "P-384" } = options;
  if (typeof outDir !== "string" || outDir.length === 0)
    throw new CryptoError("invalid-argument", "outDir must be a non-empty path");
  if (!Number.isInteger(count) || count < 1 || count > 10_000)
    throw new CryptoError(
      "invalid-argument",
      `count must be an integer from 1 to 10000, got ${String(count)}`,
    );
  if (!/^[A-Za-z0-9._-]+$/.test(prefix))
    throw new CryptoError(
      "invalid-argument",
      `prefix must be a plain file name (letters, digits, ".", "_", "-"), got "${prefix}"`,
    );
  if (!["P-256", "P-384", "P-521"].includes(curve))
    throw new CryptoError("invalid-argument", `curve must be P-256, P-384 or P-521, got ${curve}`);
  const overwrite = options.overwrite ?? false;
  assertWritable(
    Array.from({ length: count }, (_, i) => join(outDir, `${prefix}_${i + 1}`)).flatMap((p) => [
      p,
      `${p}.pub`,
    ]),
    overwrite,
  );
  const keys: GeneratedAuthKey[] = [];
  for (let index = 1; index <= count; index++) {
    const { privateKey } = generateEcKeyPair(curve);
    const privateKeyPath = join(outDir, `${prefix}_${index}`);
    keys.push({
      index,
      privateKeyPath,
      publicKeyPath: `${privateKeyPath}.pub`,
      privateKeyOpenSsh: formatOpenSshPrivateKey(privateKey),
      publicKeyOpenSsh: formatOpenSshPublicKey(privateKey),
      publicKeyPem: publicKeyToPem(privateKey),
    });
  }
  writeOutputFiles(
    keys.flatMap((k) => [
      { path: k.privateKeyPath, content: k.privateKeyOpenSsh, mode: SECRET_FILE_MODE },
      { path: k.publicKeyPath, content: k.publicKeyOpenSsh, mode: PUBLIC_FILE_MODE },
    ]),
    overwrite,
  );
  return keys;
}

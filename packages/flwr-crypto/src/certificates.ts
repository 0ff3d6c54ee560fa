/**
 * Development TLS certificates for the SuperLink, as the seed's
 * `generate_cert.sh` makes them: a self-signed CA (`ca.crt`, `ca.key`) and a
 * server certificate signed by it (`server.pem`, `server.key`) whose SAN lists
 * every host name and IP address clients will dial.
 */
import { randomBytes, webcrypto } from "node:crypto";

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;
type SigningAlgorithm = webcrypto.Algorithm | webcrypto.EcdsaParams;

import { isIP } from "node:net";
import { join } from "node:path";
import type * as X509 from "@peculiar/x509";
import { CryptoError } from "./errors.js";
import {
  assertWritable,
  PUBLIC_FILE_MODE,
  SECRET_FILE_MODE,
  writeOutputFiles,
} from "./output-files.js";
import { encodePem } from "./pem.js";

/** Key algorithm for the CA and server keys. */
export type CertificateKeyType = "ec-p384" | "rsa-4096";

/** Options of {@link generateCertificates}. */
export interface GenerateCertificatesOptions {
  /** Directory to write to (created if missing). */
  readonly outDir: string;
  /** Host names and IP addresses for the server certificate's SAN; default `localhost`, `127.0.0.1`, `::1`. */
  readonly hosts?: readonly string[];
  /** Validity in days from now, 1–36500; default 365. */
  readonly validityDays?: number;
  /** Key algorithm; default `ec-p384` (ECDSA P-384, SHA-384). `rsa-4096` signs with SHA-256. */
  readonly keyType?: CertificateKeyType;
  /** Replace existing files; default false (then nothing is written if any file exists). */
  readonly overwrite?: boolean;
}

/** What {@link generateCertificates} wrote. */
export interface GeneratedCertificates {
  /** CA certificate PEM (`ca.crt`): pass to `--ssl-ca-certfile` and `--root-certificates`. */
  readonly caCertPem: string;
  /** CA private key PEM, PKCS#8 (`ca.key`, mode 0600). */
  readonly caKeyPem: string;
  /** Server certificate PEM (`server.pem`): pass to `--ssl-certfile`. */
  readonly serverCertPem: string;
  /** Server private key PEM, PKCS#8 (`server.key`, mode 0600): pass to `--ssl-keyfile`. */
  readonly serverKeyPem: string;
  /** Paths of the four files. */
  readonly paths: {
    readonly caCert: string;
    readonly caKey: string;
    readonly serverCert: string;
    readonly serverKey: string;
  };
}

/** Default SAN entries, those of the seed's `certificate.conf`. */
export const DEFAULT_CERT_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "::1"];

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function validateHost(host: string): { type: "dns" | "ip"; value: string } {
  if (typeof host !== "string" || host.length === 0)
    throw new CryptoError("invalid-argument", "a host name must be a non-empty string");
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) return { type: "ip", value: bare };
  const labels = (bare.startsWith("*.") ? bare.slice(2) : bare).split(".");
  if (bare.length > 253 || !labels.every((l) => DNS_LABEL.test(l)))
    throw new CryptoError(
      "invalid-argument",
      `"${host}" is neither an IP address nor a valid DNS name (letters, digits, "-", dots)`,
    );
  return { type: "dns", value: bare.toLowerCase() };
}

/** A random positive 128-bit certificate serial number (hex). @internal */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive, full length
  return bytes.toString("hex");
}

async function generateKeys(keyType: CertificateKeyType): Promise<{
  keys: CryptoKeyPair;
  signingAlgorithm: SigningAlgorithm;
}> {
  const subtle = webcrypto.subtle;
  if (keyType === "ec-p384") {
    const keys = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    return { keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-384" } as webcrypto.EcdsaParams };
  }
  const keys = (await subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 4096,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  return { keys, signingAlgorithm: { name: "RSASSA-PKCS1-v1_5" } };
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  return encodePem("PRIVATE KEY", new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", key)));
}

/**
 * Loads @peculiar/x509 (and its reflect-metadata polyfill) on first use: it costs several
 * hundred milliseconds of start-up, which processes that only sign requests should not pay.
 */
export async function loadX509(): Promise<typeof X509> {
  await import("reflect-metadata");
  return import("@peculiar/x509");
}

/**
 * Generates a development CA and a server certificate signed by it, and
 * writes `ca.crt`, `ca.key`, `server.pem` and `server.key` into `outDir`.
 *
 * The CA has BasicConstraints `CA:TRUE` (critical) and KeyUsage
 * keyCertSign + cRLSign (critical). The server certificate has a SAN with a
 * DNS entry per host name and an IP entry per address, ExtendedKeyUsage
 * serverAuth, KeyUsage digitalSignature (+ keyEncipherment for RSA), and
 * BasicConstraints `CA:FALSE`. For development only: the CA key is written
 * next to the certificates.
 * @param options - see {@link GenerateCertificatesOptions}.
 * @throws CryptoError `invalid-argument` for bad options, `file-exists` when a file
 *   exists and `overwrite` is not set (nothing is written then).
 */
export async function generateCertificates(
  options: GenerateCertificatesOptions,
): Promise<GeneratedCertificates> {
  const { outDir, hosts = DEFAULT_CERT_HOSTS, validityDays = 365, keyType = "ec-p384" } = options;
  if (typeof outDir !== "string" || outDir.length === 0)
    throw new CryptoError("invalid-argument", "outDir must be a non-empty path");
  if (!Array.isArray(hosts) || hosts.length === 0)
    throw new CryptoError("invalid-argument", "hosts must list at least one host name or IP");
  const names = hosts.map(validateHost);
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 36_500)
    throw new CryptoError(
      "invalid-argument",
      `validityDays must be an integer from 1 to 36500, got ${String(validityDays)}`,
    );
  if (keyType !== "ec-p384" && keyType !== "rsa-4096")
    throw new CryptoError(
      "invalid-argument",
      `keyType must be "ec-p384" or "rsa-4096", got "${String(keyType)}"`,
    );
  const paths = {
    caCert: join(outDir, "ca.crt"),
    caKey: join(outDir, "ca.key"),
    serverCert: join(outDir, "server.pem"),
    serverKey: join(outDir, "server.key"),
  };

  assertWritable(Object.values(paths), options.overwrite ?? false);

  // @peculiar/x509 is typed against the DOM's WebCrypto; Node's implementation is the same API.
  const x509 = await loadX509();
  const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];
  const notBefore = new Date(Date.now() - 60_000); // tolerate small clock skew
  const notAfter = new Date(notBefore.getTime() + validityDays * 86_400_000);

  const ca = await generateKeys(keyType);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: "CN=flwr-ts development CA, O=flwr-ts",
      notBefore,
      notAfter,
      signingAlgorithm: ca.signingAlgorithm,
      keys: ca.keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const server = await generateKeys(keyType);
  const firstDns = names.find((n) => n.type === "dns")?.value;
  const serverUsage =
    keyType === "rsa-4096"
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
  const serverCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: `CN=${firstDns ?? "flwr-ts server"}, O=flwr-ts`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ca.signingAlgorithm,
      publicKey: server.keys.publicKey,
      signingKey: ca.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(serverUsage, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(names, false),
        await x509.SubjectKeyIdentifierExtension.create(server.keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const result: GeneratedCertificates = {
    caCertPem: caCert.toString("pem").replace(/\r\n/g, "\n").trimEnd() + "\n",
    caKeyPem: await pkcs8Pem(ca.keys.privateKey),
    serverCertPem: serverCert.toString("pem").replace(/\r\n/g, "\n").trimEnd() + "\n",
    serverKeyPem: await pkcs8Pem(server.keys.privateKey),
    paths,
  };
  writeOutputFiles(
    [
      { path: paths.caCert, content: result.caCertPem, mode: PUBLIC_FILE_MODE },
      { path: paths.caKey, content: result.caKeyPem, mode: SECRET_FILE_MODE },
      { path: paths.serverCert, content: result.serverCertPem, mode: PUBLIC_FILE_MODE },
      { path: paths.serverKey, content: result.serverKeyPem, mode: SECRET_FILE_MODE },
    ],
    options.overwrite ?? false,
  );
  return result;
}

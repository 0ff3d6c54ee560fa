/**
 * Operator client certificates for the SuperLink's Control API (`flwr-ts gen-certs --operator
 * NAME`): signed by the development CA of {@link generateCertificates} (`ca.crt`, `ca.key`), with
 * the operator's name as the subject CN, ExtendedKeyUsage clientAuth and no CA rights. A SuperLink
 * started with `--require-control-auth` accepts Control calls over a TLS connection that presents
 * one (the `flwr` CLI's `operator-certificate` / `operator-key` federation keys).
 *
 * {@link operatorNameOfCertificate} is the SuperLink's side: the name of a client certificate the
 * TLS layer already verified against the CA, or undefined when it is not an operator certificate.
 */
import { createPrivateKey, webcrypto, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadX509, serialNumber } from "./certificates.js";
import { CryptoError } from "./errors.js";
import {
  assertWritable,
  PUBLIC_FILE_MODE,
  SECRET_FILE_MODE,
  writeOutputFiles,
} from "./output-files.js";
import { encodePem } from "./pem.js";

/** OID of ExtendedKeyUsage clientAuth (RFC 5280). */
export const CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2";

/** Organizational unit written into operator certificates. */
export const OPERATOR_OU = "flwr-ts operator";

/** Operator names: a letter or digit, then up to 63 letters, digits, `.`, `_`, `@` or `-`. */
export const OPERATOR_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Options of {@link generateOperatorCertificate}. */
export interface GenerateOperatorCertificateOptions {
  /** Directory with `ca.crt` and `ca.key`, and where the operator files are written. */
  readonly outDir: string;
  /** The operator's name: the subject CN, and the identity in the SuperLink's audit log. */
  readonly name: string;
  /** Validity in days from now, 1–36500; default 365. */
  readonly validityDays?: number;
  /** Replace existing operator files; default false. */
  readonly overwrite?: boolean;
}

/** What {@link generateOperatorCertificate} wrote. */
export interface GeneratedOperatorCertificate {
  /** Operator certificate PEM (`operator-NAME.pem`): the federation's `operator-certificate`. */
  readonly certPem: string;
  /** Operator private key PEM, PKCS#8 (`operator-NAME.key`, mode 0600): `operator-key`. */
  readonly keyPem: string;
  /** Paths of the two files. */
  readonly paths: { readonly cert: string; readonly key: string };
}

function readCaFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CryptoError(
      "file-not-found",
      `${what} '${path}' ${code === "ENOENT" ? "does not exist" : `cannot be read (${code})`}; ` +
        "run `flwr-ts gen-certs` first (an operator certificate is signed by its CA), or pass " +
        "the directory that holds ca.crt and ca.key with --out",
      { cause: err },
    );
  }
}

/** The WebCrypto import parameters of the CA key (the algorithms gen-certs writes). */
function caAlgorithms(caKeyPem: string): {
  importAlgorithm: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
  generate: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams;
} {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey({ key: caKeyPem, format: "pem" });
  } catch (err) {
    throw new CryptoError("malformed-key", "the CA key (ca.key) is not a PEM private key", {
      cause: err,
    });
  }
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "ec" && details?.namedCurve === "secp384r1")
    return {
      importAlgorithm: { name: "ECDSA", namedCurve: "P-384" },
      signingAlgorithm: { name: "ECDSA", hash: "SHA-384" } as webcrypto.EcdsaParams,
      generate: { name: "ECDSA", namedCurve: "P-384" },
    };
  if (key.asymmetricKeyType === "rsa")
    return {
      importAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      signingAlgorithm: { name: "RSASSA-PKCS1-v1_5" },
      generate: {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: details?.modulusLength ?? 4096,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
    };
  throw new CryptoError(
    "unsupported-key",
    `the CA key is ${key.asymmetricKeyType ?? "unknown"} ${details?.namedCurve ?? ""}; ` +
      "gen-certs CAs are EC P-384 or RSA",
  );
}

/**
 * Issues an operator certificate signed by `outDir/ca.crt` + `outDir/ca.key` and writes
 * `operator-NAME.pem` and `operator-NAME.key` (0600) into `outDir`. The key type follows the CA's
 * (EC P-384 or RSA). Subject `CN=NAME, OU=flwr-ts operator, O=flwr-ts`; BasicConstraints
 * `CA:FALSE`, KeyUsage digitalSignature, ExtendedKeyUsage clientAuth.
 * @throws CryptoError `invalid-argument` for a bad name or validity, `file-not-found` without
 *   the CA files, `file-exists` when the operator files exist and `overwrite` is not set.
 */
export async function generateOperatorCertificate(
  options: GenerateOperatorCertificateOptions,
): Promise<GeneratedOperatorCertificate> {
  const { outDir, name, validityDays = 365 } = options;
  if (typeof outDir !== "string" || outDir.length === 0)
    throw new CryptoError("invalid-argument", "outDir must be a non-empty path");
  if (typeof name !== "string" || !OPERATOR_NAME_PATTERN.test(name))
    throw new CryptoError(
      "invalid-argument",
      `operator name "${String(name)}" is not valid: use 1-64 letters, digits, ".", "_", "@" ` +
        'or "-", starting with a letter or digit',
    );
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 36_500)
    throw new CryptoError(
      "invalid-argument",
      `validityDays must be an integer from 1 to 36500, got ${String(validityDays)}`,
    );
  const paths = {
    cert: join(outDir, `operator-${name}.pem`),
    key: join(outDir, `operator-${name}.key`),
  };
  assertWritable(Object.values(paths), options.overwrite ?? false);
  const caCertPem = readCaFile(join(outDir, "ca.crt"), "CA certificate");
  const caKeyPem = readCaFile(join(outDir, "ca.key"), "CA private key");
  const algorithms = caAlgorithms(caKeyPem);

  const x509 = await loadX509();
  const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];
  let caCert: InstanceType<typeof x509.X509Certificate>;
  try {
    caCert = new x509.X509Certificate(caCertPem);
  } catch (err) {
    throw new CryptoError("invalid-argument", "ca.crt is not a PEM certificate", { cause: err });
  }
  const caDer = createPrivateKey({ key: caKeyPem, format: "pem" }).export({
    format: "der",
    type: "pkcs8",
  });
  const caPrivateKey = await webcrypto.subtle.importKey(
    "pkcs8",
    caDer,
    algorithms.importAlgorithm,
    false,
    ["sign"],
  );
  const caPublicKey = await caCert.publicKey.export(crypto);
  const keys = (await webcrypto.subtle.generateKey(algorithms.generate, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + validityDays * 86_400_000);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: `CN=${name}, OU=${OPERATOR_OU}, O=flwr-ts`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: algorithms.signingAlgorithm,
      publicKey: keys.publicKey,
      signingKey: caPrivateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caPublicKey, false, crypto),
      ],
    },
    crypto,
  );
  const result: GeneratedOperatorCertificate = {
    certPem: `${cert.toString("pem").replace(/\r\n/g, "\n").trimEnd()}\n`,
    keyPem: encodePem(
      "PRIVATE KEY",
      new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)),
    ),
    paths,
  };
  writeOutputFiles(
    [
      { path: paths.cert, content: result.certPem, mode: PUBLIC_FILE_MODE },
      { path: paths.key, content: result.keyPem, mode: SECRET_FILE_MODE },
    ],
    options.overwrite ?? false,
  );
  return result;
}

/**
 * The operator name of a client certificate (DER) that the TLS layer verified against the
 * SuperLink's CA: its subject CN, when the certificate allows clientAuth (the server certificate,
 * serverAuth only, is not an operator) and is not a CA. Undefined otherwise, also for bytes that
 * do not parse.
 */
export function operatorNameOfCertificate(der: Uint8Array): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return undefined;
  }
  if (cert.ca) return undefined;
  const usages = cert.keyUsage; // Node's name for the ExtendedKeyUsage OIDs
  if (!Array.isArray(usages) || !usages.includes(CLIENT_AUTH_OID)) return undefined;
  const cn = cert.subject
    .split("\n")
    .find((part) => part.startsWith("CN="))
    ?.slice(3);
  return cn !== undefined && OPERATOR_NAME_PATTERN.test(cn) ? cn : undefined;
}

/**
 * Certificate sets for the TLS-fault tests: the project's own `generateCertificates` (what
 * `flwr-ts gen-certs` writes) for a good set, a second CA and a server certificate for another
 * host name, and @peculiar/x509 for a server certificate that has already expired (signed by the
 * good CA, so expiry is the only fault).
 */
import { createPrivateKey, webcrypto } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  generateCertificates,
  loadX509,
  serialNumber,
} from "../../packages/flwr-crypto/src/certificates.js";

/** Paths of one certificate set. */
export interface TlsSet {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

/** Every set the fault tests use. */
export interface TlsFixtures {
  /** CA + server certificate for localhost/127.0.0.1/::1. */
  readonly good: TlsSet;
  /** An unrelated CA (and its own server certificate). */
  readonly otherCa: TlsSet;
  /** Signed by an own CA, valid, but for `flower.example.org` only. */
  readonly wrongHost: TlsSet;
  /** Signed by `good`'s CA, for 127.0.0.1, expired a day ago. */
  readonly expired: TlsSet;
}

function setOf(paths: { caCert: string; serverCert: string; serverKey: string }): TlsSet {
  return { caCert: paths.caCert, serverCert: paths.serverCert, serverKey: paths.serverKey };
}

/** Writes the four sets under `dir` (subfolders good/, other/, wrong-host/, expired/). */
export async function makeTlsFixtures(dir: string): Promise<TlsFixtures> {
  const good = await generateCertificates({ outDir: join(dir, "good") });
  const other = await generateCertificates({ outDir: join(dir, "other") });
  const wrongHost = await generateCertificates({
    outDir: join(dir, "wrong-host"),
    hosts: ["flower.example.org"],
  });
  const x509 = await loadX509();
  const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];
  const ecdsa = { name: "ECDSA", namedCurve: "P-384" };
  const caKey = await webcrypto.subtle.importKey(
    "pkcs8",
    createPrivateKey(good.caKeyPem).export({ format: "der", type: "pkcs8" }),
    ecdsa,
    false,
    ["sign"],
  );
  const caCert = new x509.X509Certificate(good.caCertPem);
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const day = 86_400_000;
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: "CN=localhost, O=flwr-ts",
      issuer: caCert.subject,
      notBefore: new Date(Date.now() - 30 * day),
      notAfter: new Date(Date.now() - day),
      signingAlgorithm: { name: "ECDSA", hash: "SHA-384" },
      publicKey: keys.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          [
            { type: "dns", value: "localhost" },
            { type: "ip", value: "127.0.0.1" },
          ],
          false,
        ),
      ],
    },
    crypto,
  );
  const expiredCert = join(dir, "expired.pem");
  const expiredKey = join(dir, "expired.key");
  writeFileSync(expiredCert, cert.toString("pem"));
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  writeFileSync(
    expiredKey,
    `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END PRIVATE KEY-----\n`,
    { mode: 0o600 },
  );
  return {
    good: setOf(good.paths),
    otherCa: setOf(other.paths),
    wrongHost: setOf(wrongHost.paths),
    expired: { caCert: good.paths.caCert, serverCert: expiredCert, serverKey: expiredKey },
  };
}

import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CryptoError, generateCertificates } from "../src/index.js";
import { rejection, run, runStatus, tempDir } from "./helpers.js";

const root = tempDir();

describe.each(["ec-p384", "rsa-4096"] as const)("generateCertificates (%s)", (keyType) => {
  const dir = join(root, keyType);
  const generated = generateCertificates({ outDir: dir, keyType });

  it("writes the four files, keys with mode 0600, and returns their content", async () => {
    const g = await generated;
    expect(readFileSync(join(dir, "ca.crt"), "utf8")).toBe(g.caCertPem);
    expect(readFileSync(join(dir, "ca.key"), "utf8")).toBe(g.caKeyPem);
    expect(readFileSync(join(dir, "server.pem"), "utf8")).toBe(g.serverCertPem);
    expect(readFileSync(join(dir, "server.key"), "utf8")).toBe(g.serverKeyPem);
    expect(statSync(g.paths.caKey).mode & 0o777).toBe(0o600);
    expect(statSync(g.paths.serverKey).mode & 0o777).toBe(0o600);
    expect(g.caKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it("passes `openssl verify -CAfile ca.crt server.pem`", async () => {
    const g = await generated;
    expect(run("openssl", ["verify", "-CAfile", g.paths.caCert, g.paths.serverCert]).trim()).toBe(
      `${g.paths.serverCert}: OK`,
    );
  });

  it("has the CA and server extensions (checked with `openssl x509 -text`)", async () => {
    const g = await generated;
    const ca = run("openssl", ["x509", "-in", g.paths.caCert, "-text", "-noout"]);
    expect(ca).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(ca).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const server = run("openssl", ["x509", "-in", g.paths.serverCert, "-text", "-noout"]);
    expect(server).toMatch(
      /Subject Alternative Name:\s*\n\s*DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1\n/,
    );
    expect(server).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Server Authentication\n/);
    expect(server).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(server).toContain(
      keyType === "ec-p384" ? "ecdsa-with-SHA384" : "sha256WithRSAEncryption",
    );
    expect(server).toContain(
      keyType === "ec-p384" ? "NIST CURVE: P-384" : "Public-Key: (4096 bit)",
    );
    // the private key matches the certificate
    const certPub = run("openssl", ["x509", "-in", g.paths.serverCert, "-noout", "-pubkey"]);
    const keyPub = run("openssl", ["pkey", "-in", g.paths.serverKey, "-pubout"]);
    expect(keyPub).toBe(certPub);
    // validity: 365 days
    const cert = new X509Certificate(g.serverCertPem);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(days).toBeCloseTo(365, 2);
    expect(cert.checkIssued(new X509Certificate(g.caCertPem))).toBe(true);
  });
});

describe("generateCertificates options", () => {
  it("puts custom hosts into the SAN as DNS or IP entries", async () => {
    const dir = join(root, "custom");
    const g = await generateCertificates({
      outDir: dir,
      hosts: ["superlink.example.org", "10.0.0.7", "[fd00::1]", "*.fl.example"],
      validityDays: 30,
    });
    const cert = new X509Certificate(g.serverCertPem);
    expect(cert.subjectAltName).toBe(
      "DNS:superlink.example.org, IP Address:10.0.0.7, IP Address:FD00:0:0:0:0:0:0:1, DNS:*.fl.example",
    );
    expect(cert.checkHost("superlink.example.org")).toBe("superlink.example.org");
    expect(cert.checkIP("10.0.0.7")).toBe("10.0.0.7");
    expect(cert.checkHost("localhost")).toBeUndefined();
  });

  it("refuses to overwrite existing files unless told to, writing nothing", async () => {
    const dir = join(root, "existing");
    await generateCertificates({ outDir: dir });
    const before = readFileSync(join(dir, "ca.crt"), "utf8");
    const err = await rejection<CryptoError>(generateCertificates({ outDir: dir }));
    expect(err).toBeInstanceOf(CryptoError);
    expect(err.code).toBe("file-exists");
    expect(err.message).toContain("ca.crt");
    expect(readFileSync(join(dir, "ca.crt"), "utf8")).toBe(before);
    const again = await generateCertificates({ outDir: dir, overwrite: true });
    expect(readFileSync(join(dir, "ca.crt"), "utf8")).toBe(again.caCertPem);
    expect(again.caCertPem).not.toBe(before);
  });

  it("rejects bad hosts, validity and key types with one-line messages", async () => {
    const cases: [object, RegExp][] = [
      [{ hosts: ["bad host"] }, /"bad host" is neither an IP address nor a valid DNS name/],
      [{ hosts: [] }, /at least one host/],
      [{ validityDays: 0 }, /validityDays must be an integer from 1 to 36500/],
      [{ keyType: "dsa" }, /keyType must be "ec-p384" or "rsa-4096"/],
    ];
    for (const [opts, re] of cases) {
      const err = await rejection<CryptoError>(
        generateCertificates({ outDir: join(root, "bad"), ...opts }),
      );
      expect(err).toBeInstanceOf(CryptoError);
      expect(err.code).toBe("invalid-argument");
      expect(err.message).toMatch(re);
      expect(err.message).not.toContain("\n");
    }
    expect(runStatus("ls", [join(root, "bad")]).status).not.toBe(0);
  });
});

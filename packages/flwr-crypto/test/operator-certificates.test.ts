import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CryptoError,
  generateCertificates,
  generateOperatorCertificate,
  operatorNameOfCertificate,
  runCli,
} from "../src/index.js";
import { rejection, run, tempDir } from "./helpers.js";

const root = tempDir();

describe("operator certificates (gen-certs --operator)", () => {
  const dir = join(root, "certs");
  const ca = generateCertificates({ outDir: dir });

  it("are signed by the CA, pass openssl verify as clientAuth, and carry the name", async () => {
    await ca;
    const op = await generateOperatorCertificate({ outDir: dir, name: "alice" });
    expect(op.paths.cert).toBe(join(dir, "operator-alice.pem"));
    expect(statSync(op.paths.key).mode & 0o777).toBe(0o600);
    expect(
      run("openssl", [
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        join(dir, "ca.crt"),
        op.paths.cert,
      ]).trim(),
    ).toBe(`${op.paths.cert}: OK`);
    const cert = new X509Certificate(readFileSync(op.paths.cert));
    expect(cert.subject).toContain("CN=alice");
    expect(cert.ca).toBe(false);
    expect(operatorNameOfCertificate(cert.raw)).toBe("alice");
  });

  it("the server certificate (serverAuth) and the CA are not operators", async () => {
    const g = await ca;
    expect(operatorNameOfCertificate(new X509Certificate(g.serverCertPem).raw)).toBeUndefined();
    expect(operatorNameOfCertificate(new X509Certificate(g.caCertPem).raw)).toBeUndefined();
    expect(operatorNameOfCertificate(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });

  it("refuses bad names, a missing CA and existing files", async () => {
    await ca;
    expect(
      await rejection(generateOperatorCertificate({ outDir: dir, name: "bad name" })),
    ).toBeInstanceOf(CryptoError);
    const missing = await rejection(
      generateOperatorCertificate({ outDir: join(root, "nothing"), name: "bob" }),
    );
    expect((missing as CryptoError).code).toBe("file-not-found");
    expect((missing as Error).message).toMatch(/run `flwr-ts gen-certs` first/);
    await generateOperatorCertificate({ outDir: dir, name: "carol" });
    const again = await rejection(generateOperatorCertificate({ outDir: dir, name: "carol" }));
    expect((again as CryptoError).code).toBe("file-exists");
  });

  it("flwr-ts gen-certs --operator NAME writes the pair and names the federation keys", async () => {
    await ca;
    const out: string[] = [];
    const code = await runCli(["gen-certs", "--operator", "dave", "--out", dir], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    expect(code).toBe(0);
    expect(out.join("\n")).toMatch(/operator-dave\.pem {2}operator certificate/);
    const bad = await runCli(["gen-certs", "--operator", "x", "--host", "h", "--out", dir], {
      out: () => {},
      err: (l) => out.push(l),
    });
    expect(bad).toBe(2);
  });
});

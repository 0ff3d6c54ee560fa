/**
 * The generated certificates serve a real grpc-js TLS server: clients that
 * trust ca.crt connect on 127.0.0.1, localhost and [::1]; others fail.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateKeyType, generateCertificates } from "../src/index.js";
import { tempDir } from "./helpers.js";

const METHOD = "/flwr_ts.test.Echo/Echo";
const identity = (b: Buffer): Buffer => b;

function startServer(dir: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.register<Buffer, Buffer>(
    METHOD,
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.concat([Buffer.from("echo:"), call.request])),
    identity,
    identity,
    "unary",
  );
  const creds = grpc.ServerCredentials.createSsl(
    readFileSync(join(dir, "ca.crt")),
    [
      {
        cert_chain: readFileSync(join(dir, "server.pem")),
        private_key: readFileSync(join(dir, "server.key")),
      },
    ],
    false,
  );
  return new Promise((resolve, reject) => {
    // "[::]" is dual-stack: it accepts IPv4 (127.0.0.1) and IPv6 (::1) clients
    server.bindAsync("[::]:0", creds, (err, port) =>
      err ? reject(err) : resolve({ server, port }),
    );
  });
}

function call(target: string, caPem: Buffer): Promise<string> {
  const client = new grpc.Client(target, grpc.credentials.createSsl(caPem));
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      METHOD,
      identity,
      identity,
      Buffer.from("hi"),
      { deadline: Date.now() + 10_000 },
      (err, res) => (err ? reject(err) : resolve(res!.toString())),
    );
  }).finally(() => client.close());
}

describe.each(["ec-p384", "rsa-4096"] as CertificateKeyType[])(
  "grpc-js TLS with %s certificates",
  (keyType) => {
    const dir = join(tempDir(), "certs");
    const otherDir = join(tempDir(), "other");
    let server: grpc.Server;
    let port = 0;
    let ca: Buffer;
    let otherCa: Buffer;

    beforeAll(async () => {
      await generateCertificates({ outDir: dir, keyType });
      await generateCertificates({ outDir: otherDir, keyType: "ec-p384" });
      ca = readFileSync(join(dir, "ca.crt"));
      otherCa = readFileSync(join(otherDir, "ca.crt"));
      ({ server, port } = await startServer(dir));
    });
    afterAll(() => server?.forceShutdown());

    it.each(["127.0.0.1", "localhost", "[::1]"])(
      "accepts a client trusting ca.crt on %s",
      async (host) => {
        expect(await call(`${host}:${port}`, ca)).toBe("echo:hi");
      },
    );

    it("rejects a client trusting another CA with a certificate error", async () => {
      const err = (await call(`127.0.0.1:${port}`, otherCa).catch(
        (e: unknown) => e,
      )) as grpc.ServiceError;
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(err.details).toMatch(/certificate/i);
    });
  },
);

describe("grpc-js TLS host checking", () => {
  it("rejects a host the certificate does not name", async () => {
    const dir = join(tempDir(), "only-localhost");
    await generateCertificates({ outDir: dir, hosts: ["localhost"] });
    const { server, port } = await startServer(dir);
    try {
      const ca = readFileSync(join(dir, "ca.crt"));
      expect(await call(`localhost:${port}`, ca)).toBe("echo:hi");
      const err = (await call(`127.0.0.1:${port}`, ca).catch(
        (e: unknown) => e,
      )) as grpc.ServiceError;
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(err.details).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list|altnames/i);
    } finally {
      server.forceShutdown();
    }
  });
});

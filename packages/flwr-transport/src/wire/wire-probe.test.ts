import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FleetDefinition } from "@flwr-ts/core/proto";
import { generateCertificates } from "@flwr-ts/crypto";
import { credentials, Server as GrpcServer, ServerCredentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient } from "../grpc/client.js";
import { classifyRpcError } from "../supernode/rpc-retry.js";
import { Code } from "./code.js";
import type { createHttpClient } from "./http/http-client.js";
import { RpcError } from "./rpc-error.js";
import { probeWire, WireMismatchError, withWireCheck } from "./wire-probe.js";

let dir: string;
let http1: number;
let https1: number;
let grpcPlain: number;
let grpcTls: number;
let caPem: string;
const closers: (() => void)[] = [];

function listen(server: Server): Promise<number> {
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

function grpcServer(creds: ServerCredentials): Promise<number> {
  const server = new GrpcServer();
  closers.push(() => server.forceShutdown());
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", creds, (e, p) => (e ? reject(e) : resolve(p))),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "flwr-wire-probe-"));
  const certs = await generateCertificates({ outDir: dir });
  caPem = certs.caCertPem;
  const answer = (_req: unknown, res: import("node:http").ServerResponse) => {
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"detail":"Not Found"}');
  };
  http1 = await listen(createServer(answer));
  https1 = await listen(
    createHttpsServer({ cert: certs.serverCertPem, key: certs.serverKeyPem }, answer),
  );
  grpcPlain = await grpcServer(ServerCredentials.createInsecure());
  grpcTls = await grpcServer(
    ServerCredentials.createSsl(null, [
      {
        cert_chain: Buffer.from(certs.serverCertPem),
        private_key: Buffer.from(certs.serverKeyPem),
      },
    ]),
  );
});

afterAll(() => {
  for (const close of closers) close();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("probeWire", () => {
  test("tells HTTP/1.1 from HTTP/2, with and without TLS", async () => {
    expect(await probeWire("127.0.0.1", http1)).toEqual({ tls: false, http: "http1" });
    expect(await probeWire("127.0.0.1", https1)).toEqual({ tls: true, http: "http1" });
    expect(await probeWire("127.0.0.1", grpcPlain)).toEqual({ tls: false, http: "http2" });
    expect(await probeWire("127.0.0.1", grpcTls)).toEqual({ tls: true, http: "http2" });
  });

  test("nothing listening: undefined", async () => {
    const server = createServer();
    const port = await listen(server);
    server.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(await probeWire("127.0.0.1", port)).toBeUndefined();
  });
});

describe("withWireCheck", () => {
  test("a gRPC client reaching an HTTP/1.1 server gets a WireMismatchError (not retried)", async () => {
    const raw = createClient(FleetDefinition, `127.0.0.1:${http1}`, credentials.createInsecure());
    const client = withWireCheck(raw, {
      wire: "grpc",
      tls: false,
      host: "127.0.0.1",
      port: http1,
    });
    const error = await failure(client.registerNode({ publicKey: Buffer.alloc(0) }));
    expect(error).toBeInstanceOf(WireMismatchError);
    expect((error as WireMismatchError).peerWire).toBe("http");
    expect(error.code).toBe(Code.UNIMPLEMENTED);
    expect(classifyRpcError(error)).not.toBe("unavailable");
    client.close();
  });

  test("a gRPC TLS client reaching an HTTPS server too", async () => {
    const raw = createClient(
      FleetDefinition,
      `127.0.0.1:${https1}`,
      credentials.createSsl(Buffer.from(caPem)),
    );
    const client = withWireCheck(raw, {
      wire: "grpc",
      tls: true,
      host: "127.0.0.1",
      port: https1,
    });
    const error = await failure(client.registerNode({ publicKey: Buffer.alloc(0) }));
    expect(error).toBeInstanceOf(WireMismatchError);
    client.close();
  });

  test("a plaintext client reaching a TLS server is told to use TLS (fatal)", async () => {
    const client = withWireCheck(
      {
        registerNode: () => Promise.reject(new RpcError(Code.UNAVAILABLE, "socket hang up")),
        close: () => {},
      } as unknown as ReturnType<typeof createHttpClient<typeof FleetDefinition>>,
      { wire: "http", tls: false, host: "127.0.0.1", port: https1 },
    );
    const error = await failure(client.registerNode({ publicKey: Buffer.alloc(0) }));
    expect(error.details).toMatch(/requires TLS/);
    expect(classifyRpcError(error)).toBe("tls");
  });

  test("refused connections are not probed and stay retryable", async () => {
    let probes = 0;
    const client = withWireCheck(
      {
        registerNode: () =>
          Promise.reject(new RpcError(Code.UNAVAILABLE, "connect ECONNREFUSED 127.0.0.1:1")),
        close: () => {},
      } as unknown as ReturnType<typeof createHttpClient<typeof FleetDefinition>>,
      {
        wire: "http",
        tls: false,
        host: "127.0.0.1",
        port: 1,
        probe: async () => {
          probes++;
          return { tls: false, http: "http2" };
        },
      },
    );
    const error = await failure(client.registerNode({ publicKey: Buffer.alloc(0) }));
    expect(classifyRpcError(error)).toBe("unavailable");
    expect(probes).toBe(0);
  });

  test("an HTTP client reaching a TLS gRPC server that drops the connection", async () => {
    const client = withWireCheck(
      {
        registerNode: () =>
          Promise.reject(new RpcError(Code.UNAVAILABLE, "Cannot reach x: socket hang up")),
        close: () => {},
      } as unknown as ReturnType<typeof createHttpClient<typeof FleetDefinition>>,
      { wire: "http", tls: true, host: "127.0.0.1", port: grpcTls },
    );
    const error = await failure(client.registerNode({ publicKey: Buffer.alloc(0) }));
    expect(error).toBeInstanceOf(WireMismatchError);
    expect((error as WireMismatchError).peerWire).toBe("grpc");
  });
});

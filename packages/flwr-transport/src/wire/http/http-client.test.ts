import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Node, NodeInfo } from "@flwr-ts/core/proto";
import { generateCertificates } from "@flwr-ts/crypto";
import { Server as GrpcServer, Metadata, ServerCredentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { classifyRpcError } from "../../supernode/rpc-retry.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { createHttpClient, MAX_ERROR_BODY_BYTES, WireMismatchError } from "./http-client.js";
import { frameMessage } from "./media-types.js";

/** A test-only service built from real generated codecs: `/v1/echo/lookup`, `/v1/echo/count`. */
const EchoDefinition = {
  name: "Echo",
  fullName: "flwr_ts.test.Echo",
  methods: {
    lookup: {
      name: "Lookup",
      requestType: Node,
      requestStream: false,
      responseType: NodeInfo,
      responseStream: false,
      options: {},
    },
    count: {
      name: "Count",
      requestType: Node,
      requestStream: false,
      responseType: Node,
      responseStream: true,
      options: {},
    },
  },
} as const;

const servers: { close(): void }[] = [];
let dir: string;

function listen(server: Server): Promise<string> {
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () =>
      resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the test server saw of the last request. */
let seen: { url?: string; headers?: IncomingMessage["headers"]; closed?: boolean } = {};

const handler: RequestListener = async (req, res) => {
  seen = { url: req.url ?? "", headers: req.headers };
  const body = await readBody(req);
  const node = Node.decode(body);
  if (req.url === "/v1/echo/lookup") {
    switch (node.nodeId) {
      case 1n: {
        res.writeHead(200, {
          "content-type": "application/protobuf",
          "flwr-ts-inline-max-bytes": "4096",
        });
        const info = NodeInfo.fromPartial({
          nodeId: 1n,
          ownerName: String(req.headers["x-owner"] ?? ""),
          status: String(req.headers["flwr-public-key"] ?? ""),
        });
        res.end(Buffer.from(NodeInfo.encode(info).finish()));
        return;
      }
      case 2n:
        return json(res, 412, { code: 2004, detail: "Failed to activate SuperNode." });
      case 3n:
        return json(res, 403, {
          code: 2007,
          detail: "The current run status does not allow this Fleet API operation.",
          extra: "Object_id: abc",
        });
      case 4n:
        return json(res, 401, { detail: "Invalid SuperNode authentication" });
      case 5n:
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("Internal Server Error");
        return;
      case 6n: {
        // An endless error body: the client reads 64 KiB and stops.
        res.writeHead(503, { "content-type": "application/json" });
        const chunk = Buffer.alloc(16 * 1024, 0x61);
        for (let i = 0; i < 64 && !res.destroyed; i++) {
          res.write(chunk);
          await sleep(1);
        }
        res.end();
        return;
      }
      case 7n:
        // never answers
        req.socket.once("close", () => {
          seen.closed = true;
        });
        return;
      case 8n:
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html></html>");
        return;
      default:
        return json(res, 404, { code: 24, detail: "Node ID not found for account." });
    }
  }
  if (req.url === "/v1/echo/count") {
    if (node.nodeId === 0n) return json(res, 404, { code: 16, detail: "Run ID not found." });
    res.writeHead(200, { "content-type": "application/flower-protobuf-stream" });
    const frames = Buffer.concat(
      Array.from({ length: Number(node.nodeId) }, (_, i) =>
        frameMessage(Node.encode({ nodeId: BigInt(i + 1) }).finish()),
      ),
    );
    if (node.nodeId === 99n) {
      // endless: one frame, then silence until the client goes away
      res.write(frameMessage(Node.encode({ nodeId: 1n }).finish()));
      req.socket.once("close", () => {
        seen.closed = true;
      });
      return;
    }
    // Split across chunks that cut through length prefixes and payloads.
    for (let i = 0; i < frames.length; i += 3) {
      res.write(frames.subarray(i, i + 3));
      await sleep(1);
    }
    if (node.nodeId === 5n) {
      res.write(Buffer.from([0, 0, 0, 9, 1])); // a frame cut short
    }
    res.end();
    return;
  }
  json(res, 404, { detail: "Not Found" });
};

let plain: string;
let tlsAddress: string;
let certs: Awaited<ReturnType<typeof generateCertificates>>;
let otherCerts: Awaited<ReturnType<typeof generateCertificates>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "flwr-http-client-"));
  plain = await listen(createServer(handler));
  certs = await generateCertificates({ outDir: join(dir, "a") });
  otherCerts = await generateCertificates({ outDir: join(dir, "b") });
  tlsAddress = await listen(
    createHttpsServer({ cert: certs.serverCertPem, key: certs.serverKeyPem }, handler),
  );
});

afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

async function streamFailure(iterable: AsyncIterable<unknown>): Promise<RpcError> {
  return failure(
    (async () => {
      for await (const _ of iterable) {
        // drain
      }
    })(),
  );
}

describe("createHttpClient", () => {
  test("a unary call: protobuf body, Flower's headers, -bin metadata as base64, response headers", async () => {
    const md = new Metadata();
    md.set("flwr-public-key-bin", Buffer.from("PEM BYTES"));
    const seenHeaders: string[] = [];
    const client = createHttpClient(EchoDefinition, `http://${plain}`, {
      metadata: () => md,
      onResponseMetadata: (h) => seenHeaders.push(String(h.get("flwr-ts-inline-max-bytes")[0])),
    });
    const call = new Metadata();
    call.set("x-owner", "alice");
    let perCall: string | undefined;
    const info = await client.lookup(
      { nodeId: 1n },
      { metadata: call, onResponseMetadata: (h) => (perCall = String(h.get("content-type")[0])) },
    );
    expect(info.nodeId).toBe(1n);
    expect(info.ownerName).toBe("alice");
    expect(info.status).toBe(Buffer.from("PEM BYTES").toString("base64"));
    expect(seen.url).toBe("/v1/echo/lookup");
    expect(seen.headers?.["content-type"]).toBe("application/protobuf");
    expect(seen.headers?.["accept"]).toBe("application/protobuf");
    expect(seen.headers?.["flwr-public-key-bin"]).toBeUndefined();
    expect(seenHeaders).toEqual(["4096"]);
    expect(perCall).toBe("application/protobuf");
    client.close();
  });

  test("JSON errors become status codes with Flower's detail, extra and code", async () => {
    const client = createHttpClient(EchoDefinition, `http://${plain}`);
    const precondition = await failure(client.lookup({ nodeId: 2n }));
    expect(precondition.code).toBe(Code.FAILED_PRECONDITION);
    expect(precondition.details).toBe("Failed to activate SuperNode.");
    expect(precondition.apiErrorCode).toBe(2004);
    const denied = await failure(client.lookup({ nodeId: 3n }));
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    expect(denied.details).toBe(
      "The current run status does not allow this Fleet API operation. Object_id: abc",
    );
    expect(classifyRpcError(denied)).toBe("run-not-running");
    const auth = await failure(client.lookup({ nodeId: 4n }));
    expect(auth.code).toBe(Code.UNAUTHENTICATED);
    expect(auth.details).toBe("Invalid SuperNode authentication");
    expect(auth.apiErrorCode).toBeUndefined();
    const internal = await failure(client.lookup({ nodeId: 5n }));
    expect(internal.code).toBe(Code.INTERNAL);
    expect(internal.details).toContain("HTTP 500");
    expect(internal.details).toContain("Internal Server Error");
    const notFound = await failure(client.lookup({ nodeId: 77n }));
    expect(notFound.code).toBe(Code.NOT_FOUND);
    expect(notFound.apiErrorCode).toBe(24);
    const html = await failure(client.lookup({ nodeId: 8n }));
    expect(html.details).toContain("content-type text/html");
    client.close();
  });

  test("an unknown route is UNIMPLEMENTED and says the SuperLink does not serve it", async () => {
    const Other = { ...EchoDefinition, name: "Other", fullName: "flwr_ts.test.Other" } as const;
    const client = createHttpClient(Other, `http://${plain}`);
    const error = await failure(client.lookup({ nodeId: 1n }));
    expect(error.code).toBe(Code.UNIMPLEMENTED);
    expect(error.details).toMatch(/does not serve POST \/v1\/other\/lookup/);
    client.close();
  });

  test("an error body is read at most 64 KiB", async () => {
    const client = createHttpClient(EchoDefinition, `http://${plain}`);
    const error = await failure(client.lookup({ nodeId: 6n }));
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(error.details.length).toBeLessThan(MAX_ERROR_BODY_BYTES);
    client.close();
  });

  test("a stream: frames split across chunks, then its end", async () => {
    const client = createHttpClient(EchoDefinition, `http://${plain}`);
    const ids: bigint[] = [];
    for await (const node of client.count({ nodeId: 4n })) ids.push(node.nodeId);
    expect(ids).toEqual([1n, 2n, 3n, 4n]);
    expect(seen.headers?.["accept"]).toBe("application/flower-protobuf-stream");
    expect(seen.headers?.["accept-encoding"]).toBe("identity");
    const truncated = await streamFailure(client.count({ nodeId: 5n }));
    expect(truncated.code).toBe(Code.DATA_LOSS);
    const before = await streamFailure(client.count({ nodeId: 0n }));
    expect(before.code).toBe(Code.NOT_FOUND);
    expect(before.details).toBe("Run ID not found.");
    client.close();
  });

  test("a stream the consumer leaves early, or aborts, closes the response", async () => {
    const client = createHttpClient(EchoDefinition, `http://${plain}`);
    for await (const node of client.count({ nodeId: 99n })) {
      expect(node.nodeId).toBe(1n);
      break;
    }
    await expect.poll(() => seen.closed).toBe(true);
    const controller = new AbortController();
    const error = await failure(
      (async () => {
        for await (const _ of client.count({ nodeId: 99n }, { signal: controller.signal }))
          controller.abort();
      })(),
    );
    expect(error.code).toBe(Code.CANCELLED);
    client.close();
  });

  test("a refused connection is UNAVAILABLE (retried by the SuperNode)", async () => {
    const server = createServer();
    const address = await listen(server);
    server.close();
    await sleep(20);
    const client = createHttpClient(EchoDefinition, `http://${address}`);
    const error = await failure(client.lookup({ nodeId: 1n }));
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(error.details).toContain("ECONNREFUSED");
    expect(classifyRpcError(error)).toBe("unavailable");
    client.close();
  });

  test("an unknown host is UNAVAILABLE", async () => {
    const client = createHttpClient(EchoDefinition, "http://no-such-host.invalid:8000");
    const error = await failure(client.lookup({ nodeId: 1n }));
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(classifyRpcError(error)).toBe("unavailable");
    client.close();
  });

  test("TLS with the right CA works; the wrong CA or plaintext is a TLS failure (fatal)", async () => {
    const ok = createHttpClient(EchoDefinition, `https://${tlsAddress}`, {
      rootCertificates: certs.paths.caCert,
    });
    expect((await ok.lookup({ nodeId: 1n })).nodeId).toBe(1n);
    ok.close();
    const pem = createHttpClient(EchoDefinition, `https://${tlsAddress}`, {
      rootCertificates: readFileSync(certs.paths.caCert),
    });
    expect((await pem.lookup({ nodeId: 1n })).nodeId).toBe(1n);
    pem.close();

    const wrong = createHttpClient(EchoDefinition, `https://${tlsAddress}`, {
      rootCertificates: otherCerts.caCertPem,
    });
    const error = await failure(wrong.lookup({ nodeId: 1n }));
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(error.details).toMatch(/TLS handshake/);
    expect(classifyRpcError(error)).toBe("tls");
    wrong.close();

    const toPlain = createHttpClient(EchoDefinition, `https://${plain}`, {
      rootCertificates: certs.caCertPem,
    });
    const plaintext = await failure(toPlain.lookup({ nodeId: 1n }));
    expect(classifyRpcError(plaintext)).toBe("tls");
    toPlain.close();
  });

  test("abort, deadline and read timeout", async () => {
    const client = createHttpClient(EchoDefinition, `http://${plain}`, { readTimeoutMs: 150 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const cancelled = await failure(client.lookup({ nodeId: 7n }, { signal: controller.signal }));
    expect(cancelled.code).toBe(Code.CANCELLED);
    await expect.poll(() => seen.closed).toBe(true);
    const already = await failure(client.lookup({ nodeId: 1n }, { signal: AbortSignal.abort() }));
    expect(already.code).toBe(Code.CANCELLED);
    const deadline = await failure(client.lookup({ nodeId: 7n }, { timeoutMs: 80 }));
    expect(deadline.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(classifyRpcError(deadline)).toBe("deadline");
    const idle = await failure(client.lookup({ nodeId: 7n }));
    expect(idle.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(idle.details).toMatch(/Read timeout/);
    // The client still works after its failures.
    expect((await client.lookup({ nodeId: 1n })).nodeId).toBe(1n);
    client.close();
  });

  test("a gRPC (HTTP/2) server is reported as such, plaintext and TLS", async () => {
    const grpc = new GrpcServer();
    const port = await new Promise<number>((resolve, reject) =>
      grpc.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const grpcTls = new GrpcServer();
    const tlsPort = await new Promise<number>((resolve, reject) =>
      grpcTls.bindAsync(
        "127.0.0.1:0",
        ServerCredentials.createSsl(null, [
          {
            cert_chain: Buffer.from(certs.serverCertPem),
            private_key: Buffer.from(certs.serverKeyPem),
          },
        ]),
        (e, p) => (e ? reject(e) : resolve(p)),
      ),
    );
    try {
      const client = createHttpClient(EchoDefinition, `http://127.0.0.1:${port}`);
      const error = await failure(client.lookup({ nodeId: 1n }));
      expect(error).toBeInstanceOf(WireMismatchError);
      expect((error as WireMismatchError).peerWire).toBe("grpc");
      expect(error.code).toBe(Code.UNIMPLEMENTED);
      client.close();
      const secure = createHttpClient(EchoDefinition, `https://127.0.0.1:${tlsPort}`, {
        rootCertificates: certs.caCertPem,
      });
      const tlsError = await failure(secure.lookup({ nodeId: 1n }));
      expect(tlsError).toBeInstanceOf(WireMismatchError);
      secure.close();
    } finally {
      grpc.forceShutdown();
      grpcTls.forceShutdown();
    }
  });
});

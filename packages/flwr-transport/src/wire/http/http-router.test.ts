import { request } from "node:http";
import { ControlDefinition, FleetDefinition } from "@flwr-ts/core/proto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ServiceHandlers } from "../call-context.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { HttpRpcRouter } from "./http-router.js";
import { type HttpRpcServer, listenHttp } from "./http-server.js";
import { PROTOBUF_MEDIA_TYPE, PROTOBUF_STREAM_MEDIA_TYPE, readFrames } from "./media-types.js";

type FleetHandlers = ServiceHandlers<typeof FleetDefinition>;
type ControlHandlers = ServiceHandlers<typeof ControlDefinition>;

const unexpected: string[] = [];
let server: HttpRpcServer;
let heldAborted: Promise<void>;
let resolveHeld: () => void = () => {};

/** Handlers that fail unless a test names the method: only the ones below are called. */
function failing<H extends object>(
  service: { methods: Record<string, unknown> },
  impl: Partial<H>,
): H {
  const handlers: Record<string, unknown> = {};
  for (const key of Object.keys(service.methods))
    handlers[key] =
      (impl as Record<string, unknown>)[key] ??
      (() => {
        throw new RpcError(Code.UNIMPLEMENTED, `${key} is not part of this test`);
      });
  return handlers as H;
}

beforeAll(async () => {
  heldAborted = new Promise((resolve) => {
    resolveHeld = resolve;
  });
  const fleet = failing<FleetHandlers>(FleetDefinition, {
    sendNodeHeartbeat: (req, ctx) => {
      ctx.responseMetadata.set("x-echo", String(ctx.metadata.get("x-in")[0] ?? ""));
      return { success: req.heartbeatInterval === 30 };
    },
    activateNode: () => {
      throw new RpcError(
        Code.FAILED_PRECONDITION,
        "SuperNode with node ID 5 could not be activated.",
        {
          apiErrorCode: 2004,
        },
      );
    },
    deactivateNode: () => {
      throw new RpcError(Code.PERMISSION_DENIED, "Run is finished.");
    },
    unregisterNode: () => {
      throw new Error("a bug");
    },
    pullMessages: (_req, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => {
          resolveHeld();
          reject(new Error("aborted"));
        });
      }),
  });
  const control = failing<ControlHandlers>(ControlDefinition, {
    streamLogs: async function* (req) {
      if (req.runId === 404n)
        throw new RpcError(Code.NOT_FOUND, "Run ID not found.", { apiErrorCode: 16 });
      for (let i = 0; i < 3; i++)
        yield { logOutput: `line ${i} `.repeat(i * 1000), latestTimestamp: i };
    },
  });
  const router = new HttpRpcRouter()
    .addService(FleetDefinition, fleet, {
      onError: (method, error) => unexpected.push(`${method}: ${String(error)}`),
      maxBodyBytes: 1024,
      middleware: [
        (_req, ctx) => {
          if (ctx.metadata.get("x-deny").length > 0)
            throw new RpcError(Code.UNAUTHENTICATED, "Invalid signature");
        },
      ],
    })
    .addService(ControlDefinition, control);
  server = await listenHttp(router, "127.0.0.1:0", undefined);
});

afterAll(async () => {
  await server?.close(100);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string> = { "content-type": PROTOBUF_MEDIA_TYPE },
  method = "POST",
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const heartbeat = (interval: number) =>
  FleetDefinition.methods.sendNodeHeartbeat.requestType
    .encode({ node: { nodeId: 1n }, heartbeatInterval: interval })
    .finish();

describe("HTTP router: Flower 1.42's protobuf-over-HTTP wire", () => {
  test("a unary call: protobuf in, protobuf out, response headers from the handler", async () => {
    const a = await call("/v1/fleet/send-node-heartbeat", heartbeat(30), {
      "content-type": "application/protobuf; charset=binary",
      "x-in": "hello",
    });
    expect(a.status).toBe(200);
    expect(a.headers["content-type"]).toBe(PROTOBUF_MEDIA_TYPE);
    expect(a.headers["x-echo"]).toBe("hello");
    expect(FleetDefinition.methods.sendNodeHeartbeat.responseType.decode(a.body)).toEqual({
      success: true,
    });
  });

  test("an empty body is the default message", async () => {
    const a = await call("/v1/fleet/send-node-heartbeat", new Uint8Array());
    expect(a.status).toBe(200);
    expect(FleetDefinition.methods.sendNodeHeartbeat.responseType.decode(a.body).success).toBe(
      false,
    );
  });

  test("Flower's errors: catalog status and JSON body, handler details in extra", async () => {
    const a = await call("/v1/fleet/activate-node", new Uint8Array());
    expect(a.status).toBe(412);
    expect(a.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(a.body.toString())).toEqual({
      code: 2004,
      detail: "Failed to activate SuperNode.",
      extra: "SuperNode with node ID 5 could not be activated.",
    });
    const b = await call("/v1/fleet/deactivate-node", new Uint8Array());
    expect(b.status).toBe(403);
    expect(JSON.parse(b.body.toString())).toEqual({ detail: "Run is finished." });
  });

  test("middleware failures answer before the handler (401)", async () => {
    const a = await call("/v1/fleet/send-node-heartbeat", heartbeat(30), {
      "content-type": PROTOBUF_MEDIA_TYPE,
      "x-deny": "1",
    });
    expect(a.status).toBe(401);
    expect(JSON.parse(a.body.toString())).toEqual({ detail: "Invalid signature" });
  });

  test("a handler crash is a generic 500, reported, never its message", async () => {
    const a = await call("/v1/fleet/unregister-node", new Uint8Array());
    expect(a.status).toBe(500);
    expect(JSON.parse(a.body.toString())).toEqual({ detail: "Internal server error." });
    expect(unexpected.splice(0)).toEqual(["/flwr.proto.Fleet/UnregisterNode: Error: a bug"]);
  });

  test("unknown route 404, wrong method 405, wrong content type 415, bad body 400, big body 413", async () => {
    const notFound = await call("/v1/fleet/nope", "");
    expect([notFound.status, JSON.parse(notFound.body.toString())]).toEqual([
      404,
      { detail: "Not Found" },
    ]);
    const wrongMethod = await call("/v1/fleet/send-node-heartbeat", "", {}, "PUT");
    expect([wrongMethod.status, JSON.parse(wrongMethod.body.toString())]).toEqual([
      405,
      { detail: "Method Not Allowed" },
    ]);
    const json = await call("/v1/fleet/send-node-heartbeat", "{}", {
      "content-type": "application/json",
    });
    expect(json.status).toBe(415);
    expect(JSON.parse(json.body.toString())).toMatchObject({
      code: 1002,
      detail: "Unsupported Content-Type.",
    });
    const garbage = await call("/v1/fleet/send-node-heartbeat", Buffer.from([0x0a, 0xff, 0xff]));
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body.toString())).toMatchObject({
      code: 1003,
      detail: "Invalid protobuf payload.",
    });
    const big = await call("/v1/fleet/send-node-heartbeat", Buffer.alloc(4096));
    expect(big.status).toBe(413);
    expect(unexpected).toEqual([]);
  });

  test("GET and HEAD /health answer 200", async () => {
    expect((await call("/health", "", {}, "GET")).status).toBe(200);
    expect((await call("/health", "", {}, "HEAD")).status).toBe(200);
  });

  test("a server stream: length-prefixed frames; a failure before the first message is JSON", async () => {
    const req = ControlDefinition.methods.streamLogs.requestType.encode({
      runId: 1n,
      afterTimestamp: 0,
    });
    const a = await call("/v1/control/stream-logs", req.finish());
    expect(a.status).toBe(200);
    expect(a.headers["content-type"]).toBe(PROTOBUF_STREAM_MEDIA_TYPE);
    const frames: string[] = [];
    for await (const frame of readFrames([a.body.subarray(0, 3), a.body.subarray(3)]))
      frames.push(ControlDefinition.methods.streamLogs.responseType.decode(frame).logOutput);
    expect(frames.map((f) => f.length)).toEqual([0, 7000, 14000]);
    const missing = await call(
      "/v1/control/stream-logs",
      ControlDefinition.methods.streamLogs.requestType
        .encode({ runId: 404n, afterTimestamp: 0 })
        .finish(),
    );
    expect([missing.status, JSON.parse(missing.body.toString())]).toEqual([
      404,
      { code: 16, detail: "Run ID not found." },
    ]);
  });

  test("a client that disconnects aborts the handler's signal", async () => {
    const req = request({
      host: "127.0.0.1",
      port: server.port,
      path: "/v1/fleet/pull-messages",
      method: "POST",
      headers: { "content-type": PROTOBUF_MEDIA_TYPE },
    });
    req.on("error", () => {});
    req.end();
    setTimeout(() => req.destroy(), 100);
    await heldAborted;
  });
});

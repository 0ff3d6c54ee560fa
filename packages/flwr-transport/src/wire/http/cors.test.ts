import { request } from "node:http";
import { ControlDefinition, FleetDefinition, SendNodeHeartbeatRequest } from "@flwr-ts/core/proto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ServiceHandlers } from "../call-context.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { GenericService } from "../service-definition.js";
import { FLEET_CORS_ALLOWED_HEADERS, parseCorsOrigins, withFleetCors } from "./cors.js";
import { HttpRpcRouter } from "./http-router.js";
import { type HttpRpcServer, listenHttp } from "./http-server.js";
import { PROTOBUF_MEDIA_TYPE } from "./media-types.js";

const PAGE = "https://127.0.0.1:8443";

/** Every handler answers UNAUTHENTICATED except SendNodeHeartbeat (success). */
function handlers<S extends GenericService>(service: S): ServiceHandlers<S> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(service.methods))
    out[key] =
      key === "sendNodeHeartbeat"
        ? () => ({ success: true })
        : () => {
            throw new RpcError(Code.UNAUTHENTICATED, "Invalid signature");
          };
  return out as ServiceHandlers<S>;
}

let withCors: HttpRpcServer;
let without: HttpRpcServer;

beforeAll(async () => {
  const router = new HttpRpcRouter()
    .addService(FleetDefinition, handlers(FleetDefinition))
    .addService(ControlDefinition, handlers(ControlDefinition));
  withCors = await listenHttp(
    { handle: withFleetCors(router.handle, [PAGE]) },
    "127.0.0.1:0",
    undefined,
  );
  without = await listenHttp(
    { handle: withFleetCors(router.handle, []) },
    "127.0.0.1:0",
    undefined,
  );
});

afterAll(async () => {
  await withCors.close(0);
  await without.close(0);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

const preflight = (origin: string) => ({
  origin,
  "access-control-request-method": "POST",
  "access-control-request-headers": "content-type,flwr-signature,flwr-public-key,flwr-timestamp",
});
const heartbeat = SendNodeHeartbeatRequest.encode({
  node: { nodeId: 1n },
  heartbeatInterval: 30,
}).finish();

describe("--fleet-cors-origin (HTTP Fleet API CORS)", () => {
  test("a preflight from an allowed origin gets exactly that origin, POST and Flower's auth headers", async () => {
    const res = await call(
      withCors.port,
      "OPTIONS",
      "/v1/fleet/send-node-heartbeat",
      preflight(PAGE),
    );
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe(PAGE);
    expect(res.headers["access-control-allow-methods"]).toBe("POST");
    const allowed = String(res.headers["access-control-allow-headers"]).split(", ");
    for (const h of ["content-type", "flwr-public-key", "flwr-signature", "flwr-timestamp"])
      expect(allowed).toContain(h);
    expect(allowed).toEqual([...FLEET_CORS_ALLOWED_HEADERS]);
  });

  test("a preflight from another origin is refused without CORS headers", async () => {
    const res = await call(
      withCors.port,
      "OPTIONS",
      "/v1/fleet/send-node-heartbeat",
      preflight("https://evil.example"),
    );
    expect(res.status).toBe(403);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  test("answers (success and Flower's JSON errors) carry the origin; other origins get none", async () => {
    const ok = await call(
      withCors.port,
      "POST",
      "/v1/fleet/send-node-heartbeat",
      { origin: PAGE, "content-type": PROTOBUF_MEDIA_TYPE },
      heartbeat,
    );
    expect(ok.status).toBe(200);
    expect(ok.headers["access-control-allow-origin"]).toBe(PAGE);
    expect(ok.headers.vary).toBe("origin");
    const denied = await call(
      withCors.port,
      "POST",
      "/v1/fleet/activate-node",
      { origin: PAGE, "content-type": PROTOBUF_MEDIA_TYPE },
      new Uint8Array(),
    );
    expect(denied.status).toBe(401);
    expect(denied.headers["access-control-allow-origin"]).toBe(PAGE);
    expect(denied.body).toContain("Invalid signature");
    const other = await call(
      withCors.port,
      "POST",
      "/v1/fleet/send-node-heartbeat",
      { origin: "https://evil.example", "content-type": PROTOBUF_MEDIA_TYPE },
      heartbeat,
    );
    expect(other.status).toBe(200);
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });

  test("the Control API never gets CORS, even from an allowed origin", async () => {
    const res = await call(withCors.port, "OPTIONS", "/v1/control/list-runs", preflight(PAGE));
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    expect(res.status).toBe(405);
  });

  test("off by default: no allow-list, no CORS header, preflight is not served", async () => {
    const res = await call(
      without.port,
      "OPTIONS",
      "/v1/fleet/send-node-heartbeat",
      preflight(PAGE),
    );
    expect(res.status).toBe(405);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  test("origins are validated as browsers send them", () => {
    expect(
      parseCorsOrigins("https://127.0.0.1:8443, http://localhost:3000,https://127.0.0.1:8443"),
    ).toEqual(["https://127.0.0.1:8443", "http://localhost:3000"]);
    expect(() => parseCorsOrigins("https://a.example/")).toThrow(/no path or trailing slash/);
    expect(() => parseCorsOrigins("https://a.example:443")).toThrow(
      /expected 'https:\/\/a.example'/,
    );
    expect(() => parseCorsOrigins("*")).toThrow(/not an origin/);
    expect(() => parseCorsOrigins("ftp://a.example")).toThrow(/not an http\(s\) origin/);
    expect(() => parseCorsOrigins("https://a.example,")).toThrow(/empty origin/);
  });
});

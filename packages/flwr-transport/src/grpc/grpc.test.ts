import { getEventListeners } from "node:events";
import { Node, NodeInfo } from "@flwr-ts/core/proto";
import { credentials, Metadata, Server, ServerCredentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient } from "./client.js";
import { RpcError } from "./rpc-error.js";
import { createServiceImplementation } from "./server-handlers.js";

/** A test-only service built from real generated codecs. */
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

let server: Server;
let address: string;
const unexpected: string[] = [];

beforeAll(async () => {
  server = new Server();
  const { definition, implementation } = createServiceImplementation(
    EchoDefinition,
    {
      lookup: async (request, ctx) => {
        if (request.nodeId === 0n) throw new RpcError(status.NOT_FOUND, "Node ID not found");
        if (request.nodeId === 13n) throw new TypeError("boom");
        return NodeInfo.fromPartial({
          nodeId: request.nodeId,
          ownerName: String(ctx.attributes.get("caller")),
          status: ctx.metadata.get("x-status")[0]?.toString() ?? "",
        });
      },
      count: async function* (request) {
        for (let i = 1n; i <= request.nodeId; i++) yield Node.fromPartial({ nodeId: i });
        if (request.nodeId === 3n) throw new RpcError(status.ABORTED, "stopped at 3");
      },
    },
    {
      middleware: [
        (_request, ctx) => {
          if (ctx.metadata.get("x-deny").length > 0)
            throw new RpcError(status.UNAUTHENTICATED, "denied");
          ctx.attributes.set("caller", "alice");
        },
      ],
      onError: (method) => unexpected.push(method),
    },
  );
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(() => server.forceShutdown());

describe("typed gRPC services over grpc-js", () => {
  test("unary call round-trips uint64 ids, metadata and middleware attributes", async () => {
    const client = createClient(EchoDefinition, address, credentials.createInsecure(), {
      metadata: () => {
        const md = new Metadata();
        md.set("x-status", "online");
        return md;
      },
    });
    const info = await client.lookup({ nodeId: 18446744073709551615n });
    expect(info.nodeId).toBe(18446744073709551615n);
    expect(info.ownerName).toBe("alice");
    expect(info.status).toBe("online");
    client.close();
  });

  test("RpcError becomes the status; other errors become INTERNAL without details", async () => {
    const client = createClient(EchoDefinition, address, credentials.createInsecure());
    await expect(client.lookup({ nodeId: 0n })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: "Node ID not found",
    });
    await expect(client.lookup({ nodeId: 13n })).rejects.toMatchObject({
      code: status.INTERNAL,
      details: "Internal server error",
    });
    expect(unexpected).toEqual(["/flwr_ts.test.Echo/Lookup"]);
    client.close();
  });

  test("middleware rejects before the handler", async () => {
    const client = createClient(EchoDefinition, address, credentials.createInsecure());
    const md = new Metadata();
    md.set("x-deny", "1");
    await expect(client.lookup({ nodeId: 5n }, { metadata: md })).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: "denied",
    });
    client.close();
  });

  test("server streams deliver every message, then the handler's error", async () => {
    const client = createClient(EchoDefinition, address, credentials.createInsecure());
    const seen: bigint[] = [];
    for await (const n of client.count({ nodeId: 4n })) seen.push(n.nodeId);
    expect(seen).toEqual([1n, 2n, 3n, 4n]);
    const partial: bigint[] = [];
    await expect(
      (async () => {
        for await (const n of client.count({ nodeId: 3n })) partial.push(n.nodeId);
      })(),
    ).rejects.toMatchObject({ code: status.ABORTED });
    expect(partial).toEqual([1n, 2n, 3n]);
    client.close();
  });

  test("a deadline that passes fails the call with DEADLINE_EXCEEDED", async () => {
    const client = createClient(EchoDefinition, "127.0.0.1:1", credentials.createInsecure());
    await expect(client.lookup({ nodeId: 1n }, { timeoutMs: 50 })).rejects.toMatchObject({
      code: expect.any(Number),
    });
    client.close();
  });

  test("finished unary calls leave no abort listener on a long-lived signal", async () => {
    const client = createClient(EchoDefinition, address, credentials.createInsecure());
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) {
      await client.lookup({ nodeId: 7n }, { signal: controller.signal });
      await client.lookup({ nodeId: 0n }, { signal: controller.signal }).catch(() => undefined);
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    client.close();
  });
});

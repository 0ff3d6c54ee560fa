/**
 * The SuperNode's ClientAppIo API over real gRPC (in-process server and NodeState): a warm
 * ClientApp gets its token with the ListAppsToLaunch answer, and flwr-ts ClientApps receive and
 * answer small messages inline (no object calls), while a ClientApp that does not announce inline
 * content gets Flower's object protocol.
 */
import {
  ConfigRecord,
  deflateMessage,
  Message,
  MetricRecord,
  metadataToProto,
  RecordDict,
} from "@flwr-ts/core";
import { ClientAppIoDefinition } from "@flwr-ts/core/proto";
import { credentials, Metadata, Server, ServerCredentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { prepareOutgoingBatch } from "../app-runtime/object-transfer.js";
import { createClient, type ServiceClient } from "../grpc/client.js";
import { createServiceImplementation } from "../grpc/server-handlers.js";
import {
  announceInline,
  DEFAULT_INLINE_MAX_BYTES,
  inlinedIds,
  markInlined,
  receiveInlined,
} from "../inline/inline-content.js";
import { createInlineAnnouncementMiddleware } from "../inline/inline-server.js";
import { APP_TOKEN_HEADER, createAppTokenMiddleware } from "../serverappio/app-token-middleware.js";
import { NodeState } from "../supernode/node-state.js";
import {
  createClientAppIoHandlers,
  RUN_HEADER,
  WAIT_HEADER,
  WARM_TOKEN_HEADER,
} from "./clientappio-servicer.js";

let server: Server;
let state: NodeState;
let client: ServiceClient<typeof ClientAppIoDefinition>;
let nextRun = 100n;

beforeAll(async () => {
  state = new NodeState();
  server = new Server();
  const { definition, implementation } = createServiceImplementation(
    ClientAppIoDefinition,
    createClientAppIoHandlers(state),
    { middleware: [createAppTokenMiddleware(state), createInlineAnnouncementMiddleware()] },
  );
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  client = createClient(ClientAppIoDefinition, `127.0.0.1:${port}`, credentials.createInsecure());
});

afterAll(() => {
  client.close();
  server.forceShutdown();
  state.close();
});

/** Stores a run's instruction in the NodeState as the SuperNode's executor does. */
function storeInstruction(runId: bigint, value: string) {
  const ins = new Message(new RecordDict({ config: new ConfigRecord({ value }) }), 5n, "train");
  ins.metadata.runId = runId;
  ins.metadata.srcNodeId = 1n;
  const deflated = deflateMessage(ins);
  ins.metadata.messageId = deflated.messageId;
  state.storeInstruction(
    { metadata: metadataToProto(ins.metadata), content: { items: [] }, error: undefined },
    deflated.tree,
    deflated.objects,
  );
  return deflated;
}

const withToken = (token: string, inline: boolean) => {
  const md = new Metadata();
  md.set(APP_TOKEN_HEADER, token);
  return inline ? announceInline(md) : md;
};

describe("ClientAppIo", () => {
  test("a warm waiter gets the token of its run with the ListAppsToLaunch answer", async () => {
    const runId = nextRun++;
    const md = new Metadata();
    md.set(RUN_HEADER, String(runId));
    md.set(WAIT_HEADER, "5000");
    let issued: string | undefined;
    const waiting = client.listAppsToLaunch(
      {},
      {
        metadata: md,
        onResponseMetadata: (h) => {
          issued = h.get(WARM_TOKEN_HEADER)[0] as string | undefined;
        },
      },
    );
    await new Promise((r) => setTimeout(r, 50));
    storeInstruction(runId, "warm");
    expect((await waiting).runIds).toEqual([runId]);
    expect(issued).toMatch(/^[0-9a-f]{256}$/);
    expect(state.verifyToken(runId, issued!)).toBe(true);
    // The run has its token: RequestToken gives nothing more, others do not see the run.
    expect((await client.requestToken({ runId })).token).toBe("");
    expect((await client.listAppsToLaunch({})).runIds).not.toContain(runId);
  });

  test("an announcing ClientApp pulls inline and pushes its reply inline", async () => {
    const runId = nextRun++;
    const ins = storeInstruction(runId, "inline");
    const { token } = await client.requestToken({ runId });
    let inlined = new Set<string>();
    const pulled = await client.pullMessage(
      { token, messageIds: [], runId },
      { metadata: withToken(token, true), onResponseMetadata: (h) => (inlined = inlinedIds(h)) },
    );
    expect(inlined).toEqual(new Set([ins.messageId]));
    const { message } = receiveInlined(pulled.messagesList[0]!, pulled.messageObjectTrees[0]!);
    expect(message.content.configRecords.get("config")?.get("value")).toBe("inline");

    const reply = new Message(new RecordDict({ metrics: new MetricRecord({ k: 1n }) }), {
      replyTo: message,
    });
    const out = prepareOutgoingBatch([reply], DEFAULT_INLINE_MAX_BYTES)[0]!;
    const res = await client.pushMessage(
      { token, runId, messagesList: [out.proto], messageObjectTrees: [out.deflated.tree] },
      { metadata: markInlined(withToken(token, true), [out.deflated.messageId]) },
    );
    expect(res.objectsToPush).toEqual([]);
    const stored = state.getReply(ins.messageId);
    expect(stored?.metadata?.messageId).toBe(out.deflated.messageId);
    expect(stored?.content).toEqual({ items: [] });
    for (const id of out.deflated.objects.keys()) expect(state.store.get(id).available).toBe(true);
  });

  test("a ClientApp that does not announce gets Flower's object protocol", async () => {
    const runId = nextRun++;
    const ins = storeInstruction(runId, "objects");
    const { token } = await client.requestToken({ runId });
    let inlined = new Set<string>(["x"]);
    const pulled = await client.pullMessage(
      { token, messageIds: [], runId },
      { metadata: withToken(token, false), onResponseMetadata: (h) => (inlined = inlinedIds(h)) },
    );
    expect(inlined.size).toBe(0);
    expect(pulled.messagesList[0]?.content).toEqual({ items: [] });
    const obj = await client.pullObject(
      { node: { nodeId: 5n }, runId, objectId: ins.messageId },
      { metadata: withToken(token, false) },
    );
    expect(obj.objectAvailable).toBe(true);
  });
});

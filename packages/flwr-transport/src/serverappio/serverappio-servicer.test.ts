/**
 * The ServerAppIo API over real gRPC (in-process server, MemoryLinkState, MemoryObjectStore):
 * Flower 1.29's token policy, the run lifecycle, staged instructions, long polls.
 */
import {
  ArrayRecord,
  ConfigRecord,
  Message,
  MetricRecord,
  NdArray,
  RecordDict,
  stampInstruction,
} from "@flwr-ts/core";
import { ServerAppIoDefinition } from "@flwr-ts/core/proto";
import { credentials, Metadata, Server, ServerCredentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { prepareOutgoing, prepareOutgoingBatch } from "../app-runtime/object-transfer.js";
import { createClient, type ServiceClient } from "../grpc/client.js";
import {
  announcedInlineMax,
  announceInline,
  DEFAULT_INLINE_MAX_BYTES,
  inlinedIds,
  markInlined,
  receiveInlined,
} from "../inline/inline-content.js";
import { MemoryObjectStore } from "../object-store/memory-object-store.js";
import { PULL_WAIT_HEADER as WAIT_HEADER } from "../protocol/flwr-ts-headers.js";
import { MemoryLinkState } from "../superlink/state/memory-link-state.js";
import { APP_TOKEN_HEADER } from "./app-token-middleware.js";
import { addServerAppIoService } from "./serverappio-service.js";

let server: Server;
let state: MemoryLinkState;
let store: MemoryObjectStore;
let client: ServiceClient<typeof ServerAppIoDefinition>;
let detach: () => void;

const withToken = (token: string) => {
  const md = new Metadata();
  md.set(APP_TOKEN_HEADER, token);
  return md;
};

function newRun(): bigint {
  const runId = state.createRun({
    fabId: "pub/app",
    fabVersion: "1.0.0",
    fabHash: state.storeFab({
      hashStr: "",
      content: Buffer.from("fab bytes"),
      verifications: new Map(),
    }),
    overrideConfig: new Map(),
    federation: "@none/default",
    flwrAid: "<id:none>",
    runType: "serverapp",
  });
  state.setServerAppContext(runId, {
    runId,
    nodeId: 1n,
    nodeConfig: new Map(),
    state: { items: [] },
    runConfig: new Map(),
    seriesId: 0n,
  });
  return runId;
}

beforeAll(async () => {
  state = new MemoryLinkState();
  store = new MemoryObjectStore();
  server = new Server();
  detach = addServerAppIoService(server, { state, store });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  client = createClient(ServerAppIoDefinition, `127.0.0.1:${port}`, credentials.createInsecure());
});

afterAll(() => {
  client.close();
  server.forceShutdown();
  detach();
});

describe("ServerAppIo", () => {
  test("token-protected rpcs need the flwr-app-token metadata", async () => {
    const runId = newRun();
    await expect(client.getNodes({ runId })).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: "Authentication failed.",
    });
    await expect(
      client.getNodes({ runId }, { metadata: withToken("f".repeat(256)) }),
    ).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  test("lifecycle: pending → starting (RequestToken) → running (PullAppInputs) → finished", async () => {
    const runId = newRun();
    expect((await client.listAppsToLaunch({})).runIds).toContain(runId);
    const { token } = await client.requestToken({ runId });
    expect(token).toMatch(/^[0-9a-f]{256}$/);
    expect(state.getRun(runId)?.status?.status).toBe("starting");
    expect((await client.requestToken({ runId })).token).toBe("");
    expect((await client.listAppsToLaunch({})).runIds).not.toContain(runId);
    // Running-only rpcs refuse a starting run.
    await expect(client.getNodes({ runId }, { metadata: withToken(token) })).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: "Run is starting.",
    });
    await expect(
      client.pullAppInputs({ token: "0".repeat(256) }, { metadata: withToken(token) }),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: "Invalid token." });
    const inputs = await client.pullAppInputs({ token }, { metadata: withToken(token) });
    expect(inputs.run?.runId).toBe(runId);
    expect(inputs.context?.nodeId).toBe(1n);
    expect(state.getRun(runId)?.status?.status).toBe("running");
    expect((await client.getNodes({ runId }, { metadata: withToken(token) })).nodes).toEqual([]);
    await client.updateRunStatus(
      { runId, runStatus: { status: "finished", subStatus: "completed", details: "" } },
      { metadata: withToken(token) },
    );
    expect(state.getRun(runId)?.status).toMatchObject({
      status: "finished",
      subStatus: "completed",
    });
    expect(state.getRunIdByToken(token)).toBeUndefined();
  });

  test("an instruction reaches the state only once its objects are pushed", async () => {
    const runId = newRun();
    const nodeId = state.createNode("<id:none>", "none", Buffer.from("key-staged"), 30);
    state.activateNode(nodeId, 30);
    const { token } = await client.requestToken({ runId });
    const md = withToken(token);
    await client.pullAppInputs({ token }, { metadata: md });
    const content = new RecordDict({
      arrays: new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array([1, 2, 3])) }),
      config: new ConfigRecord({ lr: 0.1 }),
    });
    const message = new Message(content, nodeId, "train");
    stampInstruction(message, runId);
    const out = prepareOutgoing(message);
    const before = state.numMessageIns();
    const res = await client.pushMessages(
      { token: "", runId, messagesList: [out.proto], messageObjectTrees: [out.deflated.tree] },
      { metadata: md },
    );
    expect(res.messageIds).toEqual([out.deflated.messageId]);
    expect(new Set(res.objectsToPush)).toEqual(new Set(out.deflated.objects.keys()));
    expect(state.numMessageIns()).toBe(before);
    // Pulling a staged instruction's reply returns nothing (no MESSAGE_UNAVAILABLE).
    const early = await client.pullMessages(
      { token: "", runId, messageIds: [out.deflated.messageId] },
      { metadata: md },
    );
    expect(early.messagesList).toEqual([]);
    const ids = [...res.objectsToPush];
    for (const [i, id] of ids.entries()) {
      const r = await client.pushObject(
        {
          node: { nodeId: 1n },
          runId,
          objectId: id,
          objectContent: Buffer.from(out.deflated.objects.get(id)!),
          sessionId: "",
        },
        { metadata: md },
      );
      expect(r.stored).toBe(true);
      expect(state.numMessageIns()).toBe(i === ids.length - 1 ? before + 1 : before);
    }
    await expect(
      client.pushObject(
        {
          node: { nodeId: 7n },
          runId,
          objectId: ids[0]!,
          objectContent: Buffer.alloc(0),
          sessionId: "",
        },
        { metadata: md },
      ),
    ).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: "Unexpected node ID." });
  });

  test("inline content (flwr-ts ServerApps): pushed and pulled without object calls", async () => {
    const runId = newRun();
    const nodeId = state.createNode("<id:none>", "none", Buffer.from("key-inline"), 30);
    state.activateNode(nodeId, 30);
    const { token } = await client.requestToken({ runId });
    let serverMax = 0;
    const md = () => announceInline(withToken(token));
    await client.pullAppInputs(
      { token },
      { metadata: md(), onResponseMetadata: (h) => (serverMax = announcedInlineMax(h)) },
    );
    expect(serverMax).toBe(DEFAULT_INLINE_MAX_BYTES);
    const content = new RecordDict({
      arrays: new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array([4, 5, 6])) }),
      config: new ConfigRecord({ lr: 0.2 }),
    });
    const message = new Message(content, nodeId, "train");
    stampInstruction(message, runId);
    const out = prepareOutgoingBatch([message], serverMax)[0]!;
    expect(out.inlined).toBe(true);
    const before = state.numMessageIns();
    const res = await client.pushMessages(
      { token: "", runId, messagesList: [out.proto], messageObjectTrees: [out.deflated.tree] },
      { metadata: markInlined(md(), [out.deflated.messageId]) },
    );
    expect(res.messageIds).toEqual([out.deflated.messageId]);
    expect(res.objectsToPush).toEqual([]);
    expect(state.numMessageIns()).toBe(before + 1); // stored at once, objects included
    for (const id of out.deflated.objects.keys()) expect(store.get(id).available).toBe(true);
    const [stored] = state.getMessageIns(nodeId, 1);
    expect(stored?.content).toEqual({ items: [] });

    // The node's reply, stored as objects (as Fleet leaves it), comes back inline.
    const instruction = receiveInlined(out.proto, out.deflated.tree).message;
    const reply = new Message(new RecordDict({ metrics: new MetricRecord({ n: 2n }) }), {
      replyTo: instruction,
    });
    reply.metadata.srcNodeId = nodeId;
    const replyOut = prepareOutgoing(reply);
    for (const id of store.preregister(runId, replyOut.deflated.tree))
      store.put(id, replyOut.deflated.objects.get(id)!);
    expect(state.storeMessageRes(replyOut.proto)).toMatchObject({ ok: true });
    let inlined = new Set<string>();
    const pulled = await client.pullMessages(
      { token: "", runId, messageIds: [out.deflated.messageId] },
      { metadata: md(), onResponseMetadata: (h) => (inlined = inlinedIds(h)) },
    );
    expect(inlined).toEqual(new Set([replyOut.deflated.messageId]));
    const got = receiveInlined(pulled.messagesList[0]!, pulled.messageObjectTrees[0]!).message;
    expect(got.content.metricRecords.get("metrics")?.get("n")).toBe(2n);
    // Released with the answer: no ConfirmMessageReceived needed.
    expect(store.get(replyOut.deflated.messageId).found).toBe(false);
  });

  test("a held-open pull waits briefly for the other wanted replies (one answer, not two)", async () => {
    const runId = newRun();
    const nodeId = state.createNode("<id:none>", "none", Buffer.from("key-coalesce"), 30);
    state.activateNode(nodeId, 30);
    const { token } = await client.requestToken({ runId });
    const md = () => withToken(token);
    await client.pullAppInputs({ token }, { metadata: md() });
    const sent = [1, 2, 3].map((i) => {
      const m = new Message(
        new RecordDict({ config: new ConfigRecord({ i: BigInt(i) }) }),
        nodeId,
        "train",
      );
      stampInstruction(m, runId);
      return prepareOutgoing(m);
    });
    for (const o of sent) {
      for (const id of store.preregister(runId, o.deflated.tree))
        store.put(id, o.deflated.objects.get(id)!);
      expect(state.storeMessageIns(o.proto)).toMatchObject({ ok: true });
    }
    const answer = (k: number) => {
      const ins = sent[k]!.message;
      const r = new Message(new RecordDict({ metrics: new MetricRecord({ k: BigInt(k) }) }), {
        replyTo: ins,
      });
      r.metadata.srcNodeId = nodeId;
      const out = prepareOutgoing(r);
      for (const id of store.preregister(runId, out.deflated.tree))
        store.put(id, out.deflated.objects.get(id)!);
      expect(state.storeMessageRes(out.proto)).toMatchObject({ ok: true });
    };
    const waitMd = () => {
      const m = md();
      m.set(WAIT_HEADER, "2000");
      return m;
    };
    const ids = sent.map((o) => o.deflated.messageId);
    // Replies 0 and 1 arrive 5 ms apart: one answer carries both.
    const pulling = client.pullMessages(
      { token: "", runId, messageIds: ids },
      { metadata: waitMd() },
    );
    setTimeout(() => answer(0), 20);
    setTimeout(() => answer(1), 25);
    const first = await pulling;
    expect(first.messagesList.map((m) => m.metadata?.replyToMessageId).sort()).toEqual(
      [ids[0], ids[1]].sort(),
    );
    // Reply 2 comes much later than the window: the pull that finds it does not wait for more.
    const later = client.pullMessages(
      { token: "", runId, messageIds: [ids[2]!] },
      { metadata: waitMd() },
    );
    setTimeout(() => answer(2), 100);
    expect((await later).messagesList.map((m) => m.metadata?.replyToMessageId)).toEqual([ids[2]]);
  });

  test("an inline instruction whose content does not match its tree is refused", async () => {
    const runId = newRun();
    const nodeId = state.createNode("<id:none>", "none", Buffer.from("key-forged"), 30);
    state.activateNode(nodeId, 30);
    const { token } = await client.requestToken({ runId });
    await client.pullAppInputs({ token }, { metadata: withToken(token) });
    const make = (lr: number) => {
      const m = new Message(new RecordDict({ config: new ConfigRecord({ lr }) }), nodeId, "train");
      stampInstruction(m, runId);
      return prepareOutgoingBatch([m], DEFAULT_INLINE_MAX_BYTES)[0]!;
    };
    const honest = make(0.1);
    const forged = make(0.9);
    const before = state.numMessageIns();
    await expect(
      client.pushMessages(
        {
          token: "",
          runId,
          messagesList: [{ ...honest.proto, content: forged.proto.content }],
          messageObjectTrees: [honest.deflated.tree],
        },
        { metadata: markInlined(withToken(token), [honest.deflated.messageId]) },
      ),
    ).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/does not match its object tree/),
    });
    expect(state.numMessageIns()).toBe(before);
    expect(store.get(honest.deflated.messageId).found).toBe(false);
  });

  test("PushMessages validates instructions as Flower does", async () => {
    const runId = newRun();
    const { token } = await client.requestToken({ runId });
    const md = withToken(token);
    await client.pullAppInputs({ token }, { metadata: md });
    const message = new Message(new RecordDict(), 99n, "train");
    stampInstruction(message, runId);
    const out = prepareOutgoing(message);
    const bad = { ...out.proto, metadata: { ...out.proto.metadata!, srcNodeId: 5n } };
    await expect(
      client.pushMessages(
        { token: "", runId, messagesList: [bad], messageObjectTrees: [out.deflated.tree] },
        { metadata: md },
      ),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(
      client.pushMessages(
        { token: "", runId, messagesList: [], messageObjectTrees: [] },
        { metadata: md },
      ),
    ).rejects.toMatchObject({
      details: "Malformed PushMessages: `messages_list` must not be empty",
    });
    // Unknown destination node: accepted call, empty message id (Flower's `""` on failure).
    const res = await client.pushMessages(
      { token: "", runId, messagesList: [out.proto], messageObjectTrees: [out.deflated.tree] },
      { metadata: md },
    );
    expect(res.messageIds).toEqual([""]);
  });

  test("ListAppsToLaunch is held open until a run is created (long-poll header)", async () => {
    for (const r of state.getRunInfo({ statuses: ["pending"] }))
      state.updateRunStatus(r.runId, { status: "finished", subStatus: "stopped", details: "" });
    const md = new Metadata();
    md.set(WAIT_HEADER, "10000");
    const pending = client.listAppsToLaunch({}, { metadata: md });
    await new Promise((r) => setTimeout(r, 50));
    const runId = newRun();
    const res = await pending;
    expect(res.runIds).toEqual([runId]);
    // Without the header the answer is immediate (Flower's behaviour).
    state.updateRunStatus(runId, { status: "finished", subStatus: "stopped", details: "" });
    expect((await client.listAppsToLaunch({})).runIds).toEqual([]);
  });
});

/** The SuperNode's executor: hands an instruction to the NodeState and resolves with the reply. */
import {
  ArrayRecord,
  ConfigRecord,
  deflateMessage,
  Message,
  MetricRecord,
  messageFromProto,
  NdArray,
  RecordDict,
} from "@flwr-ts/core";
import { Run } from "@flwr-ts/core/proto";
import { describe, expect, test } from "vitest";
import { prepareOutgoing } from "../app-runtime/object-transfer.js";
import { NodeState } from "../supernode/node-state.js";
import { createMessageExecutor, type ExecutionEnvironment } from "./message-executor.js";

const RUN_ID = 11n;

function received() {
  const ins = new Message(
    new RecordDict({
      arrays: new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array([1, 2, 3])) }),
      config: new ConfigRecord({ "server-round": 2n }),
    }),
    5n,
    "train",
  );
  ins.metadata.runId = RUN_ID;
  ins.metadata.srcNodeId = 1n;
  const deflated = deflateMessage(ins);
  ins.metadata.messageId = deflated.messageId;
  return { ins, deflated };
}

/** Plays the ClientApp: answers each stored instruction with a metrics reply. */
function answerInstructions(state: NodeState, seen: (insId: string) => void): void {
  state.subscribe((event) => {
    if (event.type !== "instruction") return;
    const proto = state.takeInstruction(event.runId)!;
    const insId = proto.metadata!.messageId;
    seen(insId);
    const ins = messageFromProto(proto);
    ins.metadata.messageId = insId;
    const reply = prepareOutgoing(
      new Message(new RecordDict({ metrics: new MetricRecord({ "num-examples": 1n }) }), {
        replyTo: ins,
      }),
    );
    state.store.preregister(RUN_ID, reply.deflated.tree);
    for (const [id, bytes] of reply.deflated.objects) state.store.put(id, bytes);
    queueMicrotask(() => state.storeReply(reply.proto));
  });
}

function env(extra: Partial<ExecutionEnvironment>): ExecutionEnvironment {
  return {
    nodeId: 5n,
    nodeConfig: {},
    signal: new AbortController().signal,
    getRun: async () => undefined,
    getFab: async () => undefined,
    ...extra,
  };
}

describe("createMessageExecutor", () => {
  test("stores the received objects as they are (no second deflate) and returns the reply", async () => {
    const state = new NodeState();
    state.storeRun({ ...Run.fromPartial({}), runId: RUN_ID, fabHash: "h" });
    state.storeContext({
      runId: RUN_ID,
      nodeId: 5n,
      nodeConfig: new Map(),
      state: { items: [] },
      runConfig: new Map(),
      seriesId: 0n,
    });
    const { ins, deflated } = received();
    const identical: boolean[] = [];
    answerInstructions(state, (insId) => {
      expect(insId).toBe(deflated.messageId);
      for (const [id, bytes] of deflated.objects) {
        const stored = state.store.get(id);
        identical.push(stored.available && stored.content === bytes);
      }
    });
    const execute = createMessageExecutor(state);
    const reply = await execute(
      ins,
      env({ received: { tree: deflated.tree, objects: deflated.objects } }),
    );
    expect(identical).toHaveLength(deflated.objects.size);
    expect(identical.every(Boolean)).toBe(true);
    expect(reply.message.metadata.replyToMessageId).toBe(deflated.messageId);
    expect(reply.deflated.objects.size).toBeGreaterThan(0);
    expect(reply.message.metadata.messageId).toBe(reply.deflated.tree.objectId);
    state.close();
  });

  test("without received objects it deflates the instruction itself (same ids)", async () => {
    const state = new NodeState();
    state.storeRun({ ...Run.fromPartial({}), runId: RUN_ID, fabHash: "h" });
    state.storeContext({
      runId: RUN_ID,
      nodeId: 5n,
      nodeConfig: new Map(),
      state: { items: [] },
      runConfig: new Map(),
      seriesId: 0n,
    });
    const { ins, deflated } = received();
    const copies: boolean[] = [];
    answerInstructions(state, (insId) => {
      expect(insId).toBe(deflated.messageId);
      for (const [id, bytes] of deflated.objects) {
        const stored = state.store.get(id);
        copies.push(stored.available && stored.content !== bytes);
      }
    });
    const reply = await createMessageExecutor(state)(ins, env({}));
    expect(copies.every(Boolean)).toBe(true);
    expect(reply.message.metadata.replyToMessageId).toBe(deflated.messageId);
    state.close();
  });
});

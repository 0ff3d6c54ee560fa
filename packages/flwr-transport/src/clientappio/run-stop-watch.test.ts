/**
 * `flwr stop` on the SuperNode's side: the executor stops waiting for a ClientApp's reply once the
 * SuperLink reports the run finished (or refuses GetRun because it is not running), stores the
 * run's new status for the SuperExec, and withdraws the instruction.
 */
import { deflateMessage, Message, MetricRecord, RecordDict } from "@flwr-ts/core";
import { Run } from "@flwr-ts/core/proto";
import { describe, expect, test } from "vitest";
import { prepareOutgoing } from "../app-runtime/object-transfer.js";
import { NodeState } from "../supernode/node-state.js";
import { Code, RpcError } from "../wire/rpc-error.js";
import { createMessageExecutor, type ExecutionEnvironment } from "./message-executor.js";
import { RunStoppedError, runFinished, watchRunFinished } from "./run-stop-watch.js";

const RUN_ID = 21n;

function stateWithRun(): NodeState {
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
  return state;
}

function instruction(): Message {
  const ins = new Message(new RecordDict({ metrics: new MetricRecord({ x: 1n }) }), 5n, "train");
  ins.metadata.runId = RUN_ID;
  ins.metadata.srcNodeId = 1n;
  ins.metadata.messageId = deflateMessage(ins).messageId;
  return ins;
}

function env(getRun: ExecutionEnvironment["getRun"]): ExecutionEnvironment {
  return {
    nodeId: 5n,
    nodeConfig: {},
    signal: new AbortController().signal,
    getRun,
    getFab: async () => undefined,
  };
}

describe("a run stopped while its ClientApp works", () => {
  test("GetRun refused as not running: RunStoppedError, finished run stored, instruction withdrawn", async () => {
    const state = stateWithRun();
    const ins = instruction();
    let calls = 0;
    const execute = createMessageExecutor(state);
    const outcome = execute(
      ins,
      env(async () => {
        calls++;
        throw new RpcError(Code.PERMISSION_DENIED, "Run is finished. Stopped by user.");
      }),
    );
    await expect(outcome).rejects.toBeInstanceOf(RunStoppedError);
    await expect(outcome).rejects.toThrow(/Stopped by user/);
    expect(calls).toBe(1);
    expect(runFinished(state.getRun(RUN_ID))).toBe(true);
    expect(state.takeInstruction(RUN_ID)).toBeUndefined();
    expect(state.runIdsWithPendingMessages()).not.toContain(RUN_ID);
    state.close();
  });

  test("a running run keeps the wait going; a reply still resolves it", async () => {
    const state = stateWithRun();
    const ins = instruction();
    let calls = 0;
    const stillRunning = async () => {
      calls++;
      return {
        ...Run.fromPartial({}),
        runId: RUN_ID,
        status: { status: "running", subStatus: "", details: "" },
      };
    };
    const execute = createMessageExecutor(state);
    const done = execute(ins, env(stillRunning));
    // Answer only after two status checks said "running".
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (calls < 2) return;
        clearInterval(poll);
        resolve();
      }, 20);
    });
    const proto = state.takeInstruction(RUN_ID)!;
    expect(proto.metadata?.messageId).toBe(ins.metadata.messageId);
    const reply = prepareOutgoing(
      new Message(new RecordDict({ metrics: new MetricRecord({ y: 2n }) }), { replyTo: ins }),
    );
    state.store.preregister(RUN_ID, reply.deflated.tree);
    for (const [id, bytes] of reply.deflated.objects) state.store.put(id, bytes);
    state.storeReply(reply.proto);
    const got = await done;
    expect(got.message.metadata.replyToMessageId).toBe(ins.metadata.messageId);
    const before = calls;
    await new Promise((r) => setTimeout(r, 1500));
    expect(calls).toBe(before); // the watch ended with the reply
    state.close();
  });

  test("watchRunFinished resolves undefined when aborted", async () => {
    const stop = new AbortController();
    const watched = watchRunFinished(async () => undefined, stop.signal, 10);
    stop.abort();
    expect(await watched).toBeUndefined();
  });
});

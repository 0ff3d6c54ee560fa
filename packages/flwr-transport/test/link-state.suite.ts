/**
 * The behavioural test suite every {@link LinkState} implementation must pass, written against
 * the interface only. Run it from a test file:
 *
 * ```ts
 * linkStateSuite("MemoryLinkState", (options) => new MemoryLinkState(options));
 * ```
 *
 * The factory receives a controllable clock (epoch ms); the suite moves it instead of sleeping.
 */
import { ErrorCode } from "@flwr-ts/core";
import type { Message, Metadata, RunStatus } from "@flwr-ts/core/proto";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  type LinkState,
  type LinkStateEvent,
  NOOP_FEDERATION,
  NOOP_FLWR_AID,
  NodeNotFoundError,
  NodeStatus,
  PublicKeyInUseError,
  RunNotFoundError,
} from "../src/superlink/state/link-state.js";
import {
  NODE_DEACTIVATED_ERROR_REASON,
  NODE_RESTARTED_ERROR_REASON,
  NODE_UNAVAILABLE_ERROR_REASON,
  NODE_UNREGISTERED_ERROR_REASON,
} from "../src/superlink/state/message-rules.js";
import { waitForChange } from "../src/superlink/state/wait-for-change.js";

/** What a suite factory gets. */
export interface LinkStateSuiteContext {
  /** Clock to pass to the implementation (epoch ms). */
  clock: () => number;
  /** Log cap to pass to the implementation, when a test sets one. */
  runLogMaxBytes?: number;
}

/** Creates a fresh, empty state for one test. */
export type LinkStateFactory = (ctx: LinkStateSuiteContext) => LinkState | Promise<LinkState>;

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$/;
const START_MS = Date.UTC(2026, 2, 29, 12, 0, 0);

function key(n: number): Buffer {
  return Buffer.from(`-----BEGIN PUBLIC KEY-----\nkey-${n}\n-----END PUBLIC KEY-----\n`);
}

/** Registers the shared LinkState tests under `describe(name)`. */
export function linkStateSuite(name: string, factory: LinkStateFactory): void {
  describe(`LinkState contract: ${name}`, () => {
    let now = START_MS;
    let state: LinkState;
    const clock = () => now;
    const advance = (seconds: number) => {
      now += seconds * 1000;
    };
    const nowS = () => now / 1000;

    beforeEach(async () => {
      now = START_MS;
      state = await factory({ clock });
    });
    afterEach(() => state.close());

    const newRun = () =>
      state.createRun({
        fabId: "flwrlabs/app",
        fabVersion: "1.0.0",
        fabHash: "ab".repeat(32),
        overrideConfig: new Map([["lr", { scalar: { $case: "double", value: 0.1 } }]]),
        federation: NOOP_FEDERATION,
        flwrAid: NOOP_FLWR_AID,
        runType: "serverapp",
      });

    const onlineNode = (n = 1) => {
      const id = state.createNode(NOOP_FLWR_AID, "none", key(n), 30);
      expect(state.activateNode(id, 30)).toBe(true);
      return id;
    };

    let seq = 0;
    const ins = (runId: bigint, dst: bigint, over: Partial<Metadata> = {}): Message => ({
      metadata: {
        runId,
        messageId: (++seq).toString(16).padStart(64, "0"),
        srcNodeId: 1n,
        dstNodeId: dst,
        replyToMessageId: "",
        groupId: "1",
        ttl: 3600,
        messageType: "train",
        createdAt: nowS(),
        ...over,
      },
      content: { items: [] },
      error: undefined,
    });
    const reply = (to: Message, over: Partial<Metadata> = {}): Message => ({
      metadata: {
        runId: to.metadata!.runId,
        messageId: (++seq).toString(16).padStart(64, "f"),
        srcNodeId: to.metadata!.dstNodeId,
        dstNodeId: 1n,
        replyToMessageId: to.metadata!.messageId,
        groupId: to.metadata!.groupId,
        ttl: to.metadata!.createdAt + to.metadata!.ttl - nowS(),
        messageType: to.metadata!.messageType,
        createdAt: nowS(),
        ...over,
      },
      content: { items: [] },
      error: undefined,
    });
    const running = (runId: bigint) => {
      expect(state.updateRunStatus(runId, st("starting"))).toBe(true);
      expect(state.updateRunStatus(runId, st("running"))).toBe(true);
    };
    const st = (status: string, subStatus = "", details = ""): RunStatus => ({
      status,
      subStatus,
      details,
    });

    describe("nodes", () => {
      test("createNode gives a registered node with a random uint64 id (never 0 or 1)", () => {
        const ids = new Set<bigint>();
        for (let i = 0; i < 50; i++) ids.add(state.createNode("aid", "name", key(i), 30));
        expect(ids.size).toBe(50);
        for (const id of ids) {
          expect(id).toBeGreaterThan(1n);
          expect(id).toBeLessThan(1n << 64n);
        }
        // Random 64-bit ids: some exceed 2^63 (stored as negative int64 in SQLite, read back exact).
        expect([...ids].some((id) => id >= 1n << 63n)).toBe(true);
        const [info] = state.getNodeInfo({ nodeIds: [[...ids][0]!] });
        expect(info).toMatchObject({
          ownerAid: "aid",
          ownerName: "name",
          status: NodeStatus.REGISTERED,
          heartbeatInterval: 30,
          lastActivatedAt: undefined,
          lastDeactivatedAt: undefined,
          unregisteredAt: undefined,
          onlineUntil: undefined,
        });
        expect(info!.registeredAt).toMatch(ISO_RE);
        expect(Buffer.from(info!.publicKey)).toEqual(key(0));
        expect(state.getNodeInfo()).toHaveLength(50);
      });

      test("public keys are unique among registered nodes, matched byte-exactly", () => {
        const id = state.createNode("aid", "name", key(1), 30);
        expect(() => state.createNode("aid", "name", key(1), 30)).toThrow(PublicKeyInUseError);
        expect(() => state.createNode("other", "o", key(1), 30)).toThrow(
          "Public key already in use",
        );
        expect(state.activateNode(id, 30)).toBe(true);
        expect(() => state.createNode("aid", "name", key(1), 30)).toThrow(PublicKeyInUseError);
        expect(state.getNodeIdByPublicKey(key(1))).toBe(id);
        expect(state.getNodeIdByPublicKey(Buffer.concat([key(1), Buffer.from("\n")]))).toBe(
          undefined,
        );
        state.deleteNode("aid", id);
        expect(state.getNodeIdByPublicKey(key(1))).toBe(undefined);
      });

      test("an unregistered node's key registers again: a new node supersedes the old row", () => {
        const runId = newRun();
        const old = onlineNode(1);
        const i = ins(runId, old);
        expect(state.storeMessageIns(i).ok).toBe(true);
        advance(1);
        state.deleteNode(NOOP_FLWR_AID, old);
        advance(1);
        const again = state.createNode(NOOP_FLWR_AID, "none", key(1), 30);
        expect(again).not.toBe(old);
        expect(state.getNodeIdByPublicKey(key(1))).toBe(again);
        expect(state.getNodeInfo({ nodeIds: [old] })).toEqual([]);
        const [info] = state.getNodeInfo({ nodeIds: [again] });
        expect(info).toMatchObject({ status: NodeStatus.REGISTERED, unregisteredAt: undefined });
        expect(state.getNodeInfo()).toHaveLength(1);
        expect(state.activateNode(again, 30)).toBe(true);
        expect(() => state.createNode(NOOP_FLWR_AID, "none", key(1), 30)).toThrow(
          PublicKeyInUseError,
        );
        // An instruction to the superseded node answers NODE_UNAVAILABLE: unregistered.
        const [err] = state.getMessageRes([i.metadata!.messageId]);
        expect(err!.error).toEqual({
          code: BigInt(ErrorCode.NODE_UNAVAILABLE),
          reason: NODE_UNREGISTERED_ERROR_REASON,
        });
      });

      test("activate → online until now + 2 × interval; activating an online node fails", () => {
        const id = state.createNode("aid", "n", key(1), 30);
        expect(state.activateNode(id, 20)).toBe(true);
        const [info] = state.getNodeInfo({ nodeIds: [id] });
        expect(info!.status).toBe(NodeStatus.ONLINE);
        expect(info!.onlineUntil).toBeCloseTo(nowS() + 40, 3);
        expect(info!.heartbeatInterval).toBe(20);
        expect(info!.lastActivatedAt).toMatch(ISO_RE);
        expect(state.activateNode(id, 20)).toBe(false);
        expect(state.activateNode(12345n, 20)).toBe(false);
      });

      test("reactivate lets an online node come back at once (fast restart)", () => {
        const id = onlineNode();
        advance(5);
        expect(state.activateNode(id, 30, { reactivate: true })).toBe(true);
        const [info] = state.getNodeInfo({ nodeIds: [id] });
        expect(info!.onlineUntil).toBeCloseTo(nowS() + 60, 3);
        state.deleteNode(NOOP_FLWR_AID, id);
        expect(state.activateNode(id, 30, { reactivate: true })).toBe(false);
      });

      test("online nodes turn offline lazily when online_until passes", () => {
        const id = onlineNode();
        const until = state.getNodeInfo({ nodeIds: [id] })[0]!.onlineUntil!;
        advance(59);
        expect(state.getNodeInfo({ nodeIds: [id] })[0]!.status).toBe(NodeStatus.ONLINE);
        advance(1);
        const [info] = state.getNodeInfo({ nodeIds: [id] });
        expect(info!.status).toBe(NodeStatus.OFFLINE);
        expect(Date.parse(info!.lastDeactivatedAt!)).toBeCloseTo(until * 1000, -1);
        expect(state.getNodeInfo({ statuses: [NodeStatus.ONLINE] })).toHaveLength(0);
        // An offline node can be activated again.
        expect(state.activateNode(id, 30)).toBe(true);
      });

      test("deactivate: online → offline now; otherwise false", () => {
        const id = onlineNode();
        advance(3);
        expect(state.deactivateNode(id)).toBe(true);
        const [info] = state.getNodeInfo({ nodeIds: [id] });
        expect(info!.status).toBe(NodeStatus.OFFLINE);
        expect(info!.onlineUntil).toBeCloseTo(nowS(), 3);
        expect(state.deactivateNode(id)).toBe(false);
        const fresh = state.createNode("a", "b", key(2), 30);
        expect(state.deactivateNode(fresh)).toBe(false);
      });

      test("heartbeats bring registered/offline nodes online and refresh online_until", () => {
        const id = state.createNode("a", "b", key(1), 30);
        expect(state.acknowledgeNodeHeartbeat(id, 15)).toBe(true);
        let [info] = state.getNodeInfo({ nodeIds: [id] });
        expect(info!.status).toBe(NodeStatus.ONLINE);
        const activatedAt = info!.lastActivatedAt;
        advance(10);
        expect(state.acknowledgeNodeHeartbeat(id, 15)).toBe(true);
        [info] = state.getNodeInfo({ nodeIds: [id] });
        expect(info!.onlineUntil).toBeCloseTo(nowS() + 30, 3);
        expect(info!.lastActivatedAt).toBe(activatedAt);
        expect(state.acknowledgeNodeHeartbeat(999n, 15)).toBe(false);
        state.deleteNode("a", id);
        expect(state.acknowledgeNodeHeartbeat(id, 15)).toBe(false);
      });

      test("deleteNode: owner only, once; clamps online_until to now", () => {
        const id = onlineNode();
        expect(() => state.deleteNode("someone-else", id)).toThrow(NodeNotFoundError);
        advance(2);
        state.deleteNode(NOOP_FLWR_AID, id);
        const [info] = state.getNodeInfo({ nodeIds: [id] });
        expect(info!.status).toBe(NodeStatus.UNREGISTERED);
        expect(info!.unregisteredAt).toMatch(ISO_RE);
        expect(info!.onlineUntil).toBeCloseTo(nowS(), 3);
        expect(() => state.deleteNode(NOOP_FLWR_AID, id)).toThrow(NodeNotFoundError);
        expect(() => state.deleteNode(NOOP_FLWR_AID, 424242n)).toThrow(NodeNotFoundError);
        expect(state.activateNode(id, 30)).toBe(false);
      });

      test("getNodeInfo filters by ids, owners and statuses (AND)", () => {
        const a = state.createNode("alice", "A", key(1), 30);
        const b = state.createNode("bob", "B", key(2), 30);
        state.activateNode(b, 30);
        expect(state.getNodeInfo({ ownerAids: ["alice"] }).map((n) => n.nodeId)).toEqual([a]);
        expect(state.getNodeInfo({ statuses: ["online"] }).map((n) => n.nodeId)).toEqual([b]);
        expect(state.getNodeInfo({ ownerAids: ["alice"], statuses: ["online"] })).toEqual([]);
        expect(state.getNodeInfo({ nodeIds: [a, 77n] }).map((n) => n.nodeId)).toEqual([a]);
        expect(state.getNodeInfo({ statuses: [] })).toEqual([]);
      });

      test("getNodes: online nodes, for known runs only", () => {
        const runId = newRun();
        const a = onlineNode(1);
        state.createNode(NOOP_FLWR_AID, "none", key(2), 30);
        expect(state.getNodes(runId)).toEqual(new Set([a]));
        expect(state.getNodes(98765n)).toEqual(new Set());
      });
    });

    describe("runs", () => {
      test("createRun: pending, random uint64 id, fields kept", () => {
        const runId = newRun();
        const run = state.getRun(runId)!;
        expect(run).toMatchObject({
          runId,
          fabId: "flwrlabs/app",
          fabVersion: "1.0.0",
          fabHash: "ab".repeat(32),
          status: { status: "pending", subStatus: "", details: "" },
          startingAt: "",
          runningAt: "",
          finishedAt: "",
          flwrAid: NOOP_FLWR_AID,
          federation: NOOP_FEDERATION,
          bytesSent: 0n,
          bytesRecv: 0n,
          clientappRuntime: 0,
          runType: "serverapp",
        });
        expect(run.pendingAt).toMatch(ISO_RE);
        expect(run.overrideConfig.get("lr")).toEqual({ scalar: { $case: "double", value: 0.1 } });
        expect(state.getRun(1n)).toBeUndefined();
      });

      test("status transitions follow Flower's rules and stamp times", () => {
        const runId = newRun();
        expect(state.updateRunStatus(runId, st("running"))).toBe(false);
        expect(state.updateRunStatus(runId, st("starting", "completed"))).toBe(false);
        expect(state.updateRunStatus(runId, st("starting"))).toBe(true);
        expect(state.getRun(runId)!.startingAt).toMatch(ISO_RE);
        expect(state.updateRunStatus(runId, st("finished", "completed"))).toBe(false);
        expect(state.updateRunStatus(runId, st("running"))).toBe(true);
        expect(state.getRun(runId)!.runningAt).toMatch(ISO_RE);
        expect(state.updateRunStatus(runId, st("finished", ""))).toBe(false);
        expect(state.updateRunStatus(runId, st("finished", "completed"))).toBe(true);
        expect(state.getRun(runId)!.finishedAt).toMatch(ISO_RE);
        expect(state.updateRunStatus(runId, st("finished", "failed"))).toBe(false);
        const other = newRun();
        expect(state.updateRunStatus(other, st("finished", "stopped", "by user"))).toBe(true);
        expect(state.getRunStatus([other, runId, 5n])).toEqual(
          new Map([
            [other, st("finished", "stopped", "by user")],
            [runId, st("finished", "completed")],
          ]),
        );
        expect(state.updateRunStatus(5n, st("starting"))).toBe(false);
      });

      test("getRunInfo filters, orders by pending_at and limits", () => {
        const first = newRun();
        advance(1);
        const second = newRun();
        advance(1);
        const third = newRun();
        state.updateRunStatus(second, st("starting"));
        expect(
          state
            .getRunInfo()
            .map((r) => r.runId)
            .sort(),
        ).toEqual([first, second, third].sort());
        expect(state.getRunInfo({ statuses: ["starting"] }).map((r) => r.runId)).toEqual([second]);
        expect(
          state.getRunInfo({ orderBy: "pending_at", ascending: false }).map((r) => r.runId),
        ).toEqual([third, second, first]);
        expect(state.getRunInfo({ orderBy: "pending_at", limit: 2 }).map((r) => r.runId)).toEqual([
          first,
          second,
        ]);
        expect(state.getRunInfo({ runIds: [] })).toEqual([]);
        expect(state.getRunInfo({ flwrAids: ["x"] })).toEqual([]);
        expect(state.getRunInfo({ federations: [NOOP_FEDERATION], runIds: [third] })).toHaveLength(
          1,
        );
      });

      test("traffic and ClientApp runtime accumulate; bad input is rejected", () => {
        const runId = newRun();
        state.storeTraffic(runId, { bytesSent: 10, bytesRecv: 0 });
        state.storeTraffic(runId, { bytesSent: 5, bytesRecv: 7 });
        state.addClientappRuntime(runId, 1.5);
        state.addClientappRuntime(runId, 2);
        const run = state.getRun(runId)!;
        expect([run.bytesSent, run.bytesRecv, run.clientappRuntime]).toEqual([15n, 7n, 3.5]);
        expect(() => state.storeTraffic(runId, { bytesSent: -1, bytesRecv: 2 })).toThrow(
          /Negative/,
        );
        expect(() => state.storeTraffic(runId, { bytesSent: 0, bytesRecv: 0 })).toThrow(/zero/);
        expect(() => state.storeTraffic(3n, { bytesSent: 1, bytesRecv: 0 })).toThrow(
          RunNotFoundError,
        );
        expect(() => state.addClientappRuntime(3n, 1)).toThrow(RunNotFoundError);
      });

      test("federation config round-trips as bytes", () => {
        const runId = state.createRun({
          fabId: "",
          fabVersion: "",
          fabHash: "",
          overrideConfig: new Map(),
          federation: NOOP_FEDERATION,
          federationConfig: Buffer.from([8, 2]),
          flwrAid: "",
          runType: "simulation",
        });
        expect(Buffer.from(state.getFederationConfig(runId)!)).toEqual(Buffer.from([8, 2]));
        expect(state.getFederationConfig(newRun())).toBeUndefined();
      });
    });

    describe("messages", () => {
      test("instructions are stored without content and pulled once by their node", () => {
        const runId = newRun();
        const node = onlineNode();
        const msg = ins(runId, node);
        msg.content = {
          items: [{ key: "x", value: { $case: "configRecord", value: { items: [] } } }],
        };
        expect(state.storeMessageIns(msg)).toEqual({
          ok: true,
          messageId: msg.metadata!.messageId,
        });
        expect(state.numMessageIns()).toBe(1);
        expect(state.getMessageIns(12345n)).toEqual([]);
        const pulled = state.getMessageIns(node, 1);
        expect(pulled).toHaveLength(1);
        expect(pulled[0]!.metadata).toEqual(msg.metadata);
        expect(pulled[0]!.content).toEqual({ items: [] });
        expect(state.getMessageIns(node)).toEqual([]);
        expect(state.getMessageIdsFromRunId(runId)).toEqual(new Set([msg.metadata!.messageId]));
      });

      test("limit bounds the number of pulled instructions", () => {
        const runId = newRun();
        const node = onlineNode();
        for (let i = 0; i < 3; i++) expect(state.storeMessageIns(ins(runId, node)).ok).toBe(true);
        expect(state.getMessageIns(node, 2)).toHaveLength(2);
        expect(state.getMessageIns(node, 2)).toHaveLength(1);
        expect(() => state.getMessageIns(node, 0)).toThrow();
      });

      test("invalid instructions are refused with a reason", () => {
        const runId = newRun();
        const node = onlineNode();
        const registered = state.createNode(NOOP_FLWR_AID, "none", key(9), 30);
        const bad: [string, Message][] = [
          ["message_id", ins(runId, node, { messageId: "" })],
          ["created_at", ins(runId, node, { createdAt: 1_000 })],
          ["ttl", ins(runId, node, { ttl: 0 })],
          ["expired", ins(runId, node, { createdAt: nowS() - 100, ttl: 50 })],
          ["src", ins(runId, node, { srcNodeId: 5n })],
          ["dst 1", ins(runId, node, { dstNodeId: 1n })],
          ["dst 0", ins(runId, node, { dstNodeId: 0n })],
          ["type", ins(runId, node, { messageType: "" })],
          ["reply_to", ins(runId, node, { replyToMessageId: "a".repeat(64) })],
          ["run", ins(424242n, node)],
          ["unknown dst", ins(runId, 777n)],
          ["registered dst", ins(runId, registered)],
        ];
        const both = ins(runId, node);
        both.error = { code: 0n, reason: "x" };
        bad.push(["content and error", both]);
        const neither = ins(runId, node);
        neither.content = undefined;
        bad.push(["neither", neither]);
        for (const [what, msg] of bad) {
          const result = state.storeMessageIns(msg);
          expect(result.ok, what).toBe(false);
          if (!result.ok) expect(result.reason.length, what).toBeGreaterThan(0);
        }
        expect(state.numMessageIns()).toBe(0);
      });

      test("an offline node can still be sent instructions", () => {
        const runId = newRun();
        const node = onlineNode();
        state.deactivateNode(node);
        expect(state.storeMessageIns(ins(runId, node)).ok).toBe(true);
      });

      test("expired instructions are not delivered", () => {
        const runId = newRun();
        const node = onlineNode();
        expect(state.storeMessageIns(ins(runId, node, { ttl: 10 })).ok).toBe(true);
        advance(10);
        expect(state.getMessageIns(node)).toEqual([]);
      });

      test("replies: validated against their instruction, returned once", () => {
        const runId = newRun();
        running(runId);
        const node = onlineNode();
        const other = onlineNode(2);
        const i = ins(runId, node);
        state.storeMessageIns(i);
        state.getMessageIns(node);
        expect(state.storeMessageRes(reply(i, { srcNodeId: other })).ok).toBe(false);
        expect(state.storeMessageRes(reply(i, { ttl: 3600 + 5 })).ok).toBe(false);
        expect(state.storeMessageRes(reply(i, { runId: runId + 1n })).ok).toBe(false);
        expect(state.storeMessageRes(reply(i, { replyToMessageId: "e".repeat(64) })).ok).toBe(
          false,
        );
        expect(state.storeMessageRes(reply(i, { dstNodeId: node })).ok).toBe(false);
        const r = reply(i, { ttl: 3600 + 0.05 });
        expect(state.storeMessageRes(r)).toEqual({ ok: true, messageId: r.metadata!.messageId });
        expect(state.numMessageRes()).toBe(1);
        const got = state.getMessageRes([i.metadata!.messageId]);
        expect(got).toHaveLength(1);
        expect(got[0]!.metadata).toEqual(r.metadata);
        expect(state.getMessageRes([i.metadata!.messageId])).toEqual([]);
        state.deleteMessages([i.metadata!.messageId]);
        expect([state.numMessageIns(), state.numMessageRes()]).toEqual([0, 0]);
      });

      test("error replies carry the error and no content", () => {
        const runId = newRun();
        const node = onlineNode();
        const i = ins(runId, node);
        state.storeMessageIns(i);
        const r = reply(i);
        r.content = undefined;
        r.error = { code: 2n, reason: "<class 'ValueError'>:<'boom'>" };
        expect(state.storeMessageRes(r).ok).toBe(true);
        const [got] = state.getMessageRes([i.metadata!.messageId]);
        expect(got!.error).toEqual(r.error);
        expect(got!.content).toBeUndefined();
      });

      test("waiting instructions give nothing; unknown ones MESSAGE_UNAVAILABLE", () => {
        const runId = newRun();
        const node = onlineNode();
        const i = ins(runId, node);
        state.storeMessageIns(i);
        expect(state.getMessageRes([i.metadata!.messageId])).toEqual([]);
        const unknown = "c".repeat(64);
        const [err] = state.getMessageRes([unknown]);
        expect(err!.error!.code).toBe(ErrorCode.MESSAGE_UNAVAILABLE);
        expect(err!.metadata).toMatchObject({
          runId: 0n,
          srcNodeId: 1n,
          dstNodeId: 1n,
          replyToMessageId: unknown,
          messageType: "system",
          ttl: 0,
        });
        expect(err!.metadata!.messageId).toMatch(/^[0-9a-f]{64}$/);
        advance(3600);
        const [expired] = state.getMessageRes([i.metadata!.messageId]);
        expect(expired!.error!.code).toBe(ErrorCode.MESSAGE_UNAVAILABLE);
      });

      test("NODE_UNAVAILABLE when the destination's heartbeat window passed", () => {
        const runId = newRun();
        const node = onlineNode();
        const i = ins(runId, node);
        state.storeMessageIns(i);
        advance(61);
        const [err] = state.getMessageRes([i.metadata!.messageId]);
        expect(err!.error!.code).toBe(ErrorCode.NODE_UNAVAILABLE);
        expect(err!.error!.reason).toMatch(/Node Unavailable/);
        expect(err!.metadata).toMatchObject({
          runId,
          srcNodeId: 1n,
          dstNodeId: 1n,
          replyToMessageId: i.metadata!.messageId,
          groupId: "1",
          messageType: "train",
        });
        expect(err!.metadata!.ttl).toBeCloseTo(3600 - 61, 3);
      });

      test("heartbeat expiry: Flower's NODE_UNAVAILABLE text, and a message-res event", () => {
        const runId = newRun();
        const node = onlineNode();
        const i = ins(runId, node);
        state.storeMessageIns(i);
        expect(state.getMessageIns(node)).toHaveLength(1);
        const events: LinkStateEvent[] = [];
        const off = state.subscribe((e) => events.push(e));
        advance(60);
        expect(state.getNodeInfo({ nodeIds: [node] })[0]!.status).toBe(NodeStatus.OFFLINE);
        off();
        expect(events).toContainEqual({
          type: "message-res",
          runId,
          replyToMessageId: i.metadata!.messageId,
        });
        const [err] = state.getMessageRes([i.metadata!.messageId]);
        expect(err!.error!.reason).toBe(NODE_UNAVAILABLE_ERROR_REASON);
      });

      test("fast restart: instructions the old session pulled answer NODE_UNAVAILABLE at once", () => {
        const runId = newRun();
        const node = onlineNode();
        const pulled = ins(runId, node);
        state.storeMessageIns(pulled);
        expect(state.getMessageIns(node)).toHaveLength(1);
        const waiting = ins(runId, node);
        state.storeMessageIns(waiting);
        const answered = ins(runId, node);
        state.storeMessageIns(answered);
        advance(1);
        const ids = [pulled, waiting, answered].map((m) => m.metadata!.messageId);
        expect(state.getMessageIns(node, 1).map((m) => m.metadata!.messageId)).toEqual([ids[1]]);
        expect(state.getMessageIns(node, 1).map((m) => m.metadata!.messageId)).toEqual([ids[2]]);
        expect(state.storeMessageRes(reply(answered)).ok).toBe(true);
        // The old session is still online: every pulled instruction waits for its reply.
        expect(state.getMessageRes([ids[0]!, ids[1]!])).toEqual([]);
        advance(2);
        const events: LinkStateEvent[] = [];
        const off = state.subscribe((e) => events.push(e));
        expect(state.activateNode(node, 30, { reactivate: true })).toBe(true);
        off();
        // Every pulled, unanswered instruction is announced; the answered one is not.
        expect(
          events.filter((e) => e.type === "message-res").map((e) => e.replyToMessageId),
        ).toEqual([ids[0], ids[1]]);
        const errors = state.getMessageRes([ids[0]!, ids[1]!]);
        expect(errors.map((e) => e.metadata!.replyToMessageId)).toEqual([ids[0], ids[1]]);
        for (const err of errors) {
          expect(err.error).toEqual({
            code: BigInt(ErrorCode.NODE_UNAVAILABLE),
            reason: NODE_RESTARTED_ERROR_REASON,
          });
          expect(err.metadata).toMatchObject({ runId, srcNodeId: 1n, dstNodeId: 1n });
        }
        // The reply stored before the restart is still delivered.
        expect(state.getMessageRes([ids[2]!]).map((m) => m.error)).toEqual([undefined]);
        // A new instruction pulled by the new session waits for it.
        const next = ins(runId, node);
        state.storeMessageIns(next);
        expect(state.getMessageIns(node)).toHaveLength(1);
        advance(1);
        expect(state.getMessageRes([next.metadata!.messageId])).toEqual([]);
      });

      test("fast restart: instructions not pulled yet go to the new session", () => {
        const runId = newRun();
        const node = onlineNode();
        const i = ins(runId, node);
        state.storeMessageIns(i);
        advance(1);
        expect(state.activateNode(node, 30, { reactivate: true })).toBe(true);
        expect(state.getMessageRes([i.metadata!.messageId])).toEqual([]);
        advance(1);
        expect(state.getMessageIns(node).map((m) => m.metadata!.messageId)).toEqual([
          i.metadata!.messageId,
        ]);
        advance(1);
        expect(state.getMessageRes([i.metadata!.messageId])).toEqual([]);
        expect(state.storeMessageRes(reply(i)).ok).toBe(true);
        expect(state.getMessageRes([i.metadata!.messageId]).map((m) => m.error)).toEqual([
          undefined,
        ]);
      });

      test("deactivation: NODE_UNAVAILABLE (deactivated) in the same instant, also after re-activation", () => {
        const runId = newRun();
        const node = onlineNode();
        const pulled = ins(runId, node);
        state.storeMessageIns(pulled);
        expect(state.getMessageIns(node)).toHaveLength(1);
        const notPulled = ins(runId, node);
        state.storeMessageIns(notPulled);
        advance(1);
        const events: LinkStateEvent[] = [];
        const off = state.subscribe((e) => events.push(e));
        expect(state.deactivateNode(node)).toBe(true);
        off();
        expect(
          events.filter((e) => e.type === "message-res").map((e) => e.replyToMessageId),
        ).toEqual([pulled.metadata!.messageId, notPulled.metadata!.messageId]);
        const ids = [pulled.metadata!.messageId, notPulled.metadata!.messageId];
        // No clock step: the deactivation's instant already counts.
        expect(state.getMessageRes([ids[0]!]).map((m) => m.error?.reason)).toEqual([
          NODE_DEACTIVATED_ERROR_REASON,
        ]);
        // Back within the ServerApp's poll interval: what the old session pulled stays failed,
        // the instruction it never pulled is delivered to the new one.
        advance(1);
        expect(state.activateNode(node, 30)).toBe(true);
        expect(state.getMessageRes(ids).map((m) => m.error?.reason)).toEqual([
          NODE_DEACTIVATED_ERROR_REASON,
        ]);
        expect(state.getMessageIns(node).map((m) => m.metadata!.messageId)).toEqual([ids[1]]);
      });

      test("a node that came back by heartbeat fails what it pulled before it went offline", () => {
        const runId = newRun();
        const node = onlineNode();
        const i = ins(runId, node);
        state.storeMessageIns(i);
        expect(state.getMessageIns(node)).toHaveLength(1);
        advance(61);
        expect(state.getNodeInfo({ nodeIds: [node] })[0]!.status).toBe(NodeStatus.OFFLINE);
        advance(1);
        expect(state.acknowledgeNodeHeartbeat(node, 30)).toBe(true);
        const [err] = state.getMessageRes([i.metadata!.messageId]);
        expect(err!.error!.reason).toBe(NODE_UNAVAILABLE_ERROR_REASON);
      });

      test("unregistered destination: NODE_UNAVAILABLE (unregistered)", () => {
        const runId = newRun();
        const node = onlineNode();
        const i = ins(runId, node);
        state.storeMessageIns(i);
        state.deleteNode(NOOP_FLWR_AID, node);
        const [err] = state.getMessageRes([i.metadata!.messageId]);
        expect(err!.error!.reason).toBe(NODE_UNREGISTERED_ERROR_REASON);
      });

      test("REPLY_MESSAGE_UNAVAILABLE when the reply expired", () => {
        const runId = newRun();
        const node = onlineNode();
        const i = ins(runId, node);
        state.storeMessageIns(i);
        expect(state.storeMessageRes(reply(i, { ttl: 10 })).ok).toBe(true);
        advance(11);
        state.acknowledgeNodeHeartbeat(node, 30);
        const [err] = state.getMessageRes([i.metadata!.messageId]);
        expect(err!.error!.code).toBe(ErrorCode.REPLY_MESSAGE_UNAVAILABLE);
      });

      test("synthesized error ids are stable object ids (same input, same id)", () => {
        const a = state.getMessageRes(["d".repeat(64)])[0]!;
        const b = state.getMessageRes(["d".repeat(64)])[0]!;
        expect(a.metadata!.messageId).toBe(b.metadata!.messageId);
        advance(1);
        const c = state.getMessageRes(["d".repeat(64)])[0]!;
        expect(c.metadata!.messageId).not.toBe(a.metadata!.messageId);
      });
    });

    describe("contexts, logs, FABs", () => {
      test("ServerApp context round-trips for known runs", () => {
        const runId = newRun();
        const ctx = {
          runId,
          nodeId: 1n,
          nodeConfig: new Map(),
          state: { items: [] },
          runConfig: new Map([["k", { scalar: { $case: "sint64" as const, value: -3n } }]]),
          seriesId: 0n,
        };
        expect(state.getServerAppContext(runId)).toBeUndefined();
        state.setServerAppContext(runId, ctx);
        expect(state.getServerAppContext(runId)).toEqual(ctx);
        expect(() => state.setServerAppContext(9n, ctx)).toThrow(RunNotFoundError);
      });

      test("logs are returned after a timestamp, with the latest timestamp", () => {
        const runId = newRun();
        state.addServerAppLog(runId, "a\n");
        advance(1);
        state.addServerAppLog(runId, "b\n");
        const all = state.getServerAppLog(runId);
        expect(all.logs).toBe("a\nb\n");
        expect(all.latestTimestamp).toBeCloseTo(nowS(), 3);
        const first = state.getServerAppLog(runId, nowS() - 0.5);
        expect(first.logs).toBe("b\n");
        expect(state.getServerAppLog(runId, all.latestTimestamp)).toEqual({
          logs: "",
          latestTimestamp: 0,
        });
        expect(() => state.addServerAppLog(7n, "x")).toThrow(RunNotFoundError);
        expect(() => state.getServerAppLog(7n)).toThrow(RunNotFoundError);
      });

      test("a run's log keeps its newest entries within runLogMaxBytes", async () => {
        const capped = await factory({ clock, runLogMaxBytes: 1024 });
        try {
          const runId = capped.createRun({
            fabId: "flwrlabs/app",
            fabVersion: "1.0.0",
            fabHash: "ab".repeat(32),
            overrideConfig: new Map(),
            federation: NOOP_FEDERATION,
            flwrAid: NOOP_FLWR_AID,
            runType: "serverapp",
          });
          const other = capped.createRun({
            fabId: "flwrlabs/app",
            fabVersion: "1.0.0",
            fabHash: "ab".repeat(32),
            overrideConfig: new Map(),
            federation: NOOP_FEDERATION,
            flwrAid: NOOP_FLWR_AID,
            runType: "serverapp",
          });
          capped.addServerAppLog(other, "another run's line\n");
          // 100 entries of 100 bytes (ASCII) and 10 of 100 bytes in UTF-8 ("é" is 2 bytes).
          const lines: string[] = [];
          for (let i = 0; i < 100; i++) {
            const line = `${String(i).padStart(3, "0")} ${"x".repeat(95)}\n`;
            lines.push(line);
            capped.addServerAppLog(runId, line);
            advance(0.01);
          }
          const kept = capped.getServerAppLog(runId).logs;
          expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(1024);
          expect(kept).toBe(lines.slice(-10).join(""));
          for (let i = 0; i < 10; i++) capped.addServerAppLog(runId, `${"é".repeat(49)}\n`);
          const after = capped.getServerAppLog(runId).logs;
          expect(after).toBe(`${"é".repeat(49)}\n`.repeat(10));
          // An entry larger than the cap is kept alone (the newest is never dropped).
          const big = `${"y".repeat(2000)}\n`;
          capped.addServerAppLog(runId, big);
          expect(capped.getServerAppLog(runId).logs).toBe(big);
          capped.addServerAppLog(runId, "z\n");
          expect(capped.getServerAppLog(runId).logs).toBe("z\n");
          // Other runs are untouched.
          expect(capped.getServerAppLog(other).logs).toBe("another run's line\n");
        } finally {
          capped.close();
        }
      });

      test("FABs are stored by SHA-256 of their content", () => {
        const content = Buffer.from("zip bytes");
        const hash = state.storeFab({ hashStr: "", content, verifications: new Map([["a", "b"]]) });
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        const fab = state.getFab(hash)!;
        expect(Buffer.from(fab.content)).toEqual(content);
        expect(fab.verifications.get("a")).toBe("b");
        expect(() =>
          state.storeFab({ hashStr: "0".repeat(64), content, verifications: new Map() }),
        ).toThrow(/mismatch/);
        expect(state.getFab("1".repeat(64))).toBeUndefined();
      });
    });

    describe("app tokens and nonces", () => {
      test("one token per run, 256 hex chars, verified and looked up", () => {
        const runId = newRun();
        const token = state.createToken(runId)!;
        expect(token).toMatch(/^[0-9a-f]{256}$/);
        expect(state.createToken(runId)).toBeUndefined();
        expect(state.verifyToken(runId, token)).toBe(true);
        expect(state.verifyToken(runId, "x")).toBe(false);
        expect(state.getRunIdByToken(token)).toBe(runId);
        state.deleteToken(runId);
        expect(state.verifyToken(runId, token)).toBe(false);
        expect(state.createToken(runId)).toMatch(/^[0-9a-f]{256}$/);
      });

      test("heartbeats extend a token; an expired token fails its run", () => {
        const runId = newRun();
        state.updateRunStatus(runId, st("starting"));
        const token = state.createToken(runId)!;
        advance(25);
        expect(state.acknowledgeAppHeartbeat(token)).toBe(true);
        advance(59);
        expect(state.verifyToken(runId, token)).toBe(true);
        advance(2);
        expect(state.acknowledgeAppHeartbeat(token)).toBe(false);
        expect(state.getRunStatus([runId]).get(runId)).toEqual(
          st("finished", "failed", "No heartbeat received from the run."),
        );
        expect(state.getRun(runId)!.finishedAt).toMatch(ISO_RE);
      });

      test("nonces are reserved once until they expire", () => {
        expect(state.reserveNonce("ns", "n1", nowS() + 10)).toBe(true);
        expect(state.reserveNonce("ns", "n1", nowS() + 10)).toBe(false);
        expect(state.reserveNonce("other", "n1", nowS() + 10)).toBe(true);
        expect(state.reserveNonce("", "n1", nowS() + 10)).toBe(false);
        advance(11);
        expect(state.reserveNonce("ns", "n1", nowS() + 10)).toBe(true);
      });
    });

    describe("Runtime API tasks", () => {
      test("createRun creates the run's pending flwr-serverapp task, with the run's FAB", () => {
        const runId = newRun();
        const task = state.getPrimaryTask(runId)!;
        expect(task.type).toBe("flwr-serverapp");
        expect(task.runId).toBe(runId);
        expect(task.fabHash).toBe("ab".repeat(32));
        expect(task.status).toEqual(st("pending"));
        expect(task.pendingAt).toMatch(ISO_RE);
        expect(state.getTask(task.taskId)).toEqual(task);
        expect(state.getTask(task.taskId + 1n)).toBeUndefined();
        expect(state.getPrimaryTask(runId + 1n)).toBeUndefined();
        const sim = state.createRun({
          fabId: "",
          fabVersion: "",
          fabHash: "",
          overrideConfig: new Map(),
          federation: NOOP_FEDERATION,
          flwrAid: NOOP_FLWR_AID,
          runType: "simulation",
        });
        expect(state.getPrimaryTask(sim)!.type).toBe("flwr-simulation");
        expect(state.getPrimaryTask(sim)!.fabHash).toBeUndefined();
      });

      test("claimTask hands out the oldest pending task of a wanted type, once", () => {
        const first = newRun();
        advance(1);
        const second = newRun();
        expect(state.claimTask([])).toBeUndefined();
        expect(state.claimTask(["flwr-clientapp"])).toBeUndefined();
        const a = state.claimTask(["flwr-clientapp", "flwr-serverapp"])!;
        expect(a.task.runId).toBe(first);
        expect(a.token).toMatch(/^[0-9a-f]{256}$/);
        expect(a.task.status).toEqual(st("starting"));
        expect(state.getRunStatus([first]).get(first)).toEqual(st("starting"));
        const b = state.claimTask(["flwr-serverapp"])!;
        expect(b.task.runId).toBe(second);
        expect(b.token).not.toBe(a.token);
        expect(state.claimTask(["flwr-serverapp"])).toBeUndefined();
        expect(state.getTaskByToken(a.token)!.taskId).toBe(a.task.taskId);
        expect(state.getTaskByToken("")).toBeUndefined();
        expect(state.getTaskByToken("f".repeat(256))).toBeUndefined();
      });

      test("a run that already has a 1.29 app token is not claimed", () => {
        const runId = newRun();
        expect(state.createToken(runId)).toBeDefined();
        expect(state.claimTask(["flwr-serverapp"])).toBeUndefined();
      });

      test("activate, then finish: the run follows; the token is revoked", () => {
        const runId = newRun();
        const { task, token } = state.claimTask(["flwr-serverapp"])!;
        expect(state.finishTask(task.taskId, "completed", "")).toBe(false);
        expect(state.activateTask(task.taskId)).toBe(true);
        expect(state.activateTask(task.taskId)).toBe(false);
        expect(state.getRun(runId)!.status).toEqual(st("running"));
        expect(state.getTask(task.taskId)!.runningAt).toMatch(ISO_RE);
        expect(state.finishTask(task.taskId, "bogus", "")).toBe(false);
        expect(state.finishTask(task.taskId, "completed", "")).toBe(true);
        expect(state.finishTask(task.taskId, "failed", "")).toBe(false);
        expect(state.getRun(runId)!.status).toEqual(st("finished", "completed"));
        expect(state.getTaskByToken(token)).toBeUndefined();
        expect(state.acknowledgeAppHeartbeat(token)).toBe(false);
        expect(state.activateTask(task.taskId + 1n)).toBe(false);
        expect(state.finishTask(task.taskId + 1n, "failed", "")).toBe(false);
      });

      test("a run finished elsewhere (StopRun) ends its task's token", () => {
        const runId = newRun();
        const { task, token } = state.claimTask(["flwr-serverapp"])!;
        expect(state.activateTask(task.taskId)).toBe(true);
        expect(state.updateRunStatus(runId, st("finished", "stopped"))).toBe(true);
        expect(state.getTaskByToken(token)).toBeUndefined();
        expect(state.getTask(task.taskId)!.status).toEqual(st("finished", "stopped"));
      });

      test("a task whose heartbeats stop fails its run", () => {
        const runId = newRun();
        const { task, token } = state.claimTask(["flwr-serverapp"])!;
        expect(state.activateTask(task.taskId)).toBe(true);
        advance(20);
        expect(state.acknowledgeAppHeartbeat(token)).toBe(true);
        advance(59);
        expect(state.getTaskByToken(token)?.taskId).toBe(task.taskId);
        advance(2);
        expect(state.getTaskByToken(token)).toBeUndefined();
        expect(state.getRun(runId)!.status).toEqual(
          st("finished", "failed", "No heartbeat received from the run."),
        );
        expect(state.getTask(task.taskId)!.status?.subStatus).toBe("failed");
      });
    });

    describe("events", () => {
      test("changes are announced to subscribers; unsubscribe stops them", () => {
        const events: LinkStateEvent[] = [];
        const off = state.subscribe((e) => events.push(e));
        const runId = newRun();
        const node = onlineNode();
        const i = ins(runId, node);
        state.storeMessageIns(i);
        state.storeMessageRes(reply(i));
        off();
        state.deactivateNode(node);
        expect(events.map((e) => e.type)).toEqual([
          "run",
          "node",
          "node",
          "message-ins",
          "message-res",
        ]);
        expect(events[3]).toEqual({
          type: "message-ins",
          runId,
          dstNodeId: node,
          messageId: i.metadata!.messageId,
          groupId: "1",
          messageType: "train",
        });
      });

      test("waitForChange resolves on a matching event, a timeout or an abort", async () => {
        const runId = newRun();
        const node = onlineNode();
        const waiting = waitForChange(
          state,
          (e) => e.type === "message-ins" && e.dstNodeId === node,
          { timeoutMs: 60_000 },
        );
        state.storeMessageIns(ins(runId, node));
        await expect(waiting).resolves.toBe("event");
        await expect(waitForChange(state, () => true, { timeoutMs: 1 })).resolves.toBe("timeout");
        const controller = new AbortController();
        const aborted = waitForChange(state, () => false, {
          timeoutMs: 60_000,
          signal: controller.signal,
        });
        controller.abort();
        await expect(aborted).resolves.toBe("aborted");
      });
    });
  });
}

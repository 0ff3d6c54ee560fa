/**
 * `flwr supernode list` after a SuperLink restart (issue #12, finding 5): a node that was online
 * in the persisted state is listed offline until it sends its first heartbeat to the new
 * SuperLink process; a node that spoke since the start is listed online.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import type { CallContext } from "../../wire/call-context.js";
import { NOOP_ACCOUNT_NAME, NOOP_FLWR_AID, NodeStatus } from "../state/link-state.js";
import { SqliteLinkState } from "../state/sqlite-link-state.js";
import { createControlHandlers } from "./control-servicer.js";
import { listedNodeInfo } from "./node-handlers.js";

const dir = mkdtempSync(join(tmpdir(), "flwr-list-restart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ctx = {} as CallContext;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const key = (i: number) =>
  Buffer.from(`-----BEGIN PUBLIC KEY-----\nkey-${i}\n-----END PUBLIC KEY-----\n`);

describe("ListNodes after a SuperLink restart", () => {
  test("a persisted online node is offline until its first heartbeat", async () => {
    const file = join(dir, "state.db");
    const before = new SqliteLinkState({ location: file });
    const nodeId = before.createNode(NOOP_FLWR_AID, NOOP_ACCOUNT_NAME, key(1), 30);
    expect(before.activateNode(nodeId, 30)).toBe(true);
    before.close();
    await sleep(20);

    // The restarted SuperLink: same file, handlers created at its start.
    const after = new SqliteLinkState({ location: file });
    const control = createControlHandlers({ state: after, store: new MemoryObjectStore() });
    const status = async () =>
      (await control.listNodes({}, ctx)).nodesInfo.find((n) => n.nodeId === nodeId);
    // The persisted state still says online (its online_until is 60 s away).
    expect(after.getNodeInfo({ nodeIds: [nodeId] })[0]?.status).toBe(NodeStatus.ONLINE);
    const listed = await status();
    expect(listed?.status).toBe(NodeStatus.OFFLINE);
    expect(listed?.lastDeactivatedAt).toBeDefined();

    await sleep(5);
    expect(after.acknowledgeNodeHeartbeat(nodeId, 30)).toBe(true);
    expect((await status())?.status).toBe(NodeStatus.ONLINE);
    after.close();
  });

  test("a node that activated after the start is online; other statuses are left alone", () => {
    const now = Date.now();
    const base = {
      nodeId: 7n,
      ownerAid: NOOP_FLWR_AID,
      ownerName: NOOP_ACCOUNT_NAME,
      registeredAt: "",
      heartbeatInterval: 30,
      publicKey: Buffer.alloc(0),
    };
    const fresh = { ...base, status: NodeStatus.ONLINE, onlineUntil: now / 1000 + 60 };
    expect(listedNodeInfo(fresh, now)).toBe(fresh);
    const stale = { ...base, status: NodeStatus.ONLINE, onlineUntil: now / 1000 + 50 };
    expect(listedNodeInfo(stale, now).status).toBe(NodeStatus.OFFLINE);
    const registered = { ...base, status: NodeStatus.REGISTERED };
    expect(listedNodeInfo(registered, now)).toBe(registered);
  });
});

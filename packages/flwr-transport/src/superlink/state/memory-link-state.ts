/**
 * In-memory {@link LinkState} (Flower's `InMemoryLinkState`, the `:flwr-in-memory:` database):
 * Maps with secondary indexes, lost when the process exits.
 */
import { createHash } from "node:crypto";
import type { Context, Fab, Message, NodeInfo, Run, RunStatus } from "@flwr-ts/core/proto";
import type { Task } from "@flwr-ts/core/proto/runtime";
import {
  type CreateRunInput,
  HEARTBEAT_DEFAULT_INTERVAL,
  HEARTBEAT_PATIENCE,
  type LinkState,
  LinkStateArgumentError,
  type LinkStateListener,
  type LinkStateOptions,
  type NodeFilter,
  NodeNotFoundError,
  NodeStatus,
  PublicKeyInUseError,
  RUN_FAILURE_DETAILS_NO_HEARTBEAT,
  type RunFilter,
  RunNotFoundError,
  RunStatusValue,
  RunSubStatus,
  type StoreMessageResult,
  SUPERLINK_NODE_ID,
} from "./link-state.js";
import { DEFAULT_RUN_LOG_MAX_BYTES, logEntryBytes } from "./log-retention.js";
import {
  checkReplyAgainstInstruction,
  copyMessage,
  instructionErrorReply,
  messageTtlHasExpired,
  messageUnavailableReply,
  nodeUnavailableCause,
  type SessionEnd,
  validateMessage,
  withoutContent,
} from "./message-rules.js";
import { isValidTransition } from "./run-rules.js";
import { LinkStateNotifier } from "./state-events.js";
import { isoTimestamp, newAppToken, randomUint64 } from "./state-values.js";
import {
  activateTask,
  claimTask,
  currentTask,
  finishTask,
  type TaskRecordLookup,
  taskByToken,
} from "./task-lifecycle.js";
import { primaryTaskTypeOf, type TaskRecord } from "./task-records.js";

interface StoredMessage {
  message: Message;
  deliveredAt: string;
}

interface RunRecord {
  run: Run;
  federationConfig: Uint8Array | undefined;
  logs: { timestamp: number; text: string }[];
}

function keyOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function copyNode(n: NodeInfo): NodeInfo {
  return { ...n, publicKey: Buffer.from(n.publicKey) };
}

function copyRun(r: Run): Run {
  return {
    ...r,
    overrideConfig: new Map(r.overrideConfig),
    status: r.status ? { ...r.status } : undefined,
  };
}

/** The in-memory LinkState. */
export class MemoryLinkState implements LinkState {
  private readonly clock: () => number;
  private readonly notifier = new LinkStateNotifier();
  private readonly nodes = new Map<bigint, NodeInfo>();
  private readonly nodeByKey = new Map<string, bigint>();
  /** How each node's last session ended (see `SessionEnd`); absent = none yet. */
  private readonly sessionEnd = new Map<bigint, SessionEnd>();
  private readonly runs = new Map<bigint, RunRecord>();
  private readonly contexts = new Map<bigint, Context>();
  private readonly messageIns = new Map<string, StoredMessage>();
  /** Instruction ids by destination node, in insertion order (PullMessages reads one node's). */
  private readonly insByDst = new Map<bigint, Set<string>>();
  private readonly messageRes = new Map<string, StoredMessage>();
  private readonly insToRes = new Map<string, string>();
  private readonly fabs = new Map<string, Fab>();
  private readonly tokens = new Map<bigint, { token: string; activeUntil: number }>();
  private readonly tokenToRun = new Map<string, bigint>();
  private readonly nonces = new Map<string, number>();
  private readonly tasks = new Map<bigint, TaskRecord>();
  private readonly taskOfRun = new Map<bigint, bigint>();
  private readonly taskLookup: TaskRecordLookup = {
    byTaskId: (taskId) => this.tasks.get(taskId),
    byRunId: (runId) => {
      const taskId = this.taskOfRun.get(runId);
      return taskId === undefined ? undefined : this.tasks.get(taskId);
    },
  };
  private closed = false;

  /** @param options - see {@link LinkStateOptions}. */
  constructor(options: LinkStateOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.runLogMaxBytes = options.runLogMaxBytes ?? DEFAULT_RUN_LOG_MAX_BYTES;
  }

  private readonly runLogMaxBytes: number;
  /** UTF-8 bytes of each run's stored log. */
  private readonly logBytes = new Map<bigint, number>();

  private nowSeconds(): number {
    return this.clock() / 1000;
  }

  private nowIso(): string {
    return isoTimestamp(this.clock());
  }

  // ------------------------------------------------------------------ nodes

  createNode(
    ownerAid: string,
    ownerName: string,
    publicKey: Uint8Array,
    heartbeatInterval: number,
  ): bigint {
    const key = keyOf(publicKey);
    const previous = this.nodeByKey.get(key);
    if (previous !== undefined) {
      // An unregistered node's key may be registered again: the new node supersedes its row.
      if (this.nodes.get(previous)?.status !== NodeStatus.UNREGISTERED)
        throw new PublicKeyInUseError();
      this.nodes.delete(previous);
      this.sessionEnd.delete(previous);
      this.nodeByKey.delete(key);
    }
    let nodeId = randomUint64([0n, SUPERLINK_NODE_ID]);
    while (this.nodes.has(nodeId)) nodeId = randomUint64([0n, SUPERLINK_NODE_ID]);
    this.nodes.set(nodeId, {
      nodeId,
      ownerAid,
      ownerName,
      status: NodeStatus.REGISTERED,
      registeredAt: this.nowIso(),
      lastActivatedAt: undefined,
      lastDeactivatedAt: undefined,
      unregisteredAt: undefined,
      onlineUntil: undefined,
      heartbeatInterval,
      publicKey: Buffer.from(publicKey),
    });
    this.nodeByKey.set(key, nodeId);
    this.notifier.emit({ type: "node", nodeId, status: NodeStatus.REGISTERED });
    return nodeId;
  }

  deleteNode(ownerAid: string, nodeId: bigint): void {
    const node = this.nodes.get(nodeId);
    if (!node || node.status === NodeStatus.UNREGISTERED || node.ownerAid !== ownerAid)
      throw new NodeNotFoundError(nodeId);
    const now = this.clock();
    node.status = NodeStatus.UNREGISTERED;
    node.unregisteredAt = isoTimestamp(now);
    // Flower: min(online_until, now); a never-activated node gets now.
    node.onlineUntil = Math.min(node.onlineUntil ?? now / 1000, now / 1000);
    this.notifier.emit({ type: "node", nodeId, status: node.status });
    this.announceUnanswered(nodeId, false);
  }

  /**
   * Emits a `message-res` event for each unanswered instruction to `nodeId` (only those pulled
   * before now when `pulledOnly`): its session ended, so a waiting ServerApp pulls its
   * NODE_UNAVAILABLE reply at once.
   */
  private announceUnanswered(nodeId: bigint, pulledOnly: boolean): void {
    const now = this.nowIso();
    for (const id of this.insByDst.get(nodeId) ?? []) {
      const stored = this.messageIns.get(id);
      if (!stored || this.insToRes.has(id)) continue;
      if (pulledOnly && (stored.deliveredAt === "" || stored.deliveredAt === now)) continue;
      const runId = stored.message.metadata!.runId;
      this.notifier.emit({ type: "message-res", runId, replyToMessageId: id });
    }
  }

  private tagOfflineNodes(nodeIds?: Iterable<bigint>): void {
    const now = this.nowSeconds();
    for (const id of nodeIds ?? this.nodes.keys()) {
      const node = this.nodes.get(id);
      if (node?.status === NodeStatus.ONLINE && (node.onlineUntil ?? 0) <= now) {
        node.status = NodeStatus.OFFLINE;
        node.lastDeactivatedAt = isoTimestamp((node.onlineUntil ?? 0) * 1000);
        this.sessionEnd.set(id, "heartbeat");
        this.notifier.emit({ type: "node", nodeId: id, status: node.status });
        this.announceUnanswered(id, false);
      }
    }
  }

  activateNode(
    nodeId: bigint,
    heartbeatInterval: number,
    options: { reactivate?: boolean } = {},
  ): boolean {
    this.tagOfflineNodes([nodeId]);
    const node = this.nodes.get(nodeId);
    if (!node) return false;
    const allowed =
      node.status === NodeStatus.REGISTERED ||
      node.status === NodeStatus.OFFLINE ||
      (options.reactivate === true && node.status === NodeStatus.ONLINE);
    if (!allowed) return false;
    // A new session of an online node: the old one ended (its SuperNode restarted).
    if (node.status === NodeStatus.ONLINE) this.sessionEnd.set(nodeId, "restarted");
    const now = this.clock();
    node.status = NodeStatus.ONLINE;
    node.lastActivatedAt = isoTimestamp(now);
    node.onlineUntil = now / 1000 + HEARTBEAT_PATIENCE * heartbeatInterval;
    node.heartbeatInterval = heartbeatInterval;
    this.notifier.emit({ type: "node", nodeId, status: node.status });
    this.announceUnanswered(nodeId, true);
    return true;
  }

  deactivateNode(nodeId: bigint): boolean {
    this.tagOfflineNodes([nodeId]);
    const node = this.nodes.get(nodeId);
    if (node?.status !== NodeStatus.ONLINE) return false;
    const now = this.clock();
    node.status = NodeStatus.OFFLINE;
    node.lastDeactivatedAt = isoTimestamp(now);
    node.onlineUntil = now / 1000;
    this.sessionEnd.set(nodeId, "deactivated");
    this.notifier.emit({ type: "node", nodeId, status: node.status });
    this.announceUnanswered(nodeId, false);
    return true;
  }

  acknowledgeNodeHeartbeat(nodeId: bigint, heartbeatInterval: number): boolean {
    const node = this.nodes.get(nodeId);
    if (!node || node.status === NodeStatus.UNREGISTERED) return false;
    const now = this.clock();
    const wasOnline = node.status === NodeStatus.ONLINE;
    if (!wasOnline) {
      node.status = NodeStatus.ONLINE;
      node.lastActivatedAt = isoTimestamp(now);
    }
    node.onlineUntil = now / 1000 + HEARTBEAT_PATIENCE * heartbeatInterval;
    node.heartbeatInterval = heartbeatInterval;
    if (!wasOnline) this.notifier.emit({ type: "node", nodeId, status: node.status });
    return true;
  }

  getNodeIdByPublicKey(publicKey: Uint8Array): bigint | undefined {
    const id = this.nodeByKey.get(keyOf(publicKey));
    if (id === undefined) return undefined;
    return this.nodes.get(id)?.status === NodeStatus.UNREGISTERED ? undefined : id;
  }

  getNodeInfo(filter: NodeFilter = {}): NodeInfo[] {
    this.tagOfflineNodes();
    const out: NodeInfo[] = [];
    const ids = filter.nodeIds ?? [...this.nodes.keys()];
    const seen = new Set<bigint>();
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      const node = this.nodes.get(id);
      if (!node) continue;
      if (filter.ownerAids && !filter.ownerAids.includes(node.ownerAid)) continue;
      if (filter.statuses && !filter.statuses.includes(node.status)) continue;
      out.push(copyNode(node));
    }
    return out;
  }

  getNodes(runId: bigint): Set<bigint> {
    if (!this.runs.has(runId)) return new Set();
    return new Set(this.getNodeInfo({ statuses: [NodeStatus.ONLINE] }).map((n) => n.nodeId));
  }

  // ------------------------------------------------------------------ runs

  createRun(input: CreateRunInput): bigint {
    let runId = randomUint64();
    while (this.runs.has(runId)) runId = randomUint64();
    this.runs.set(runId, {
      run: {
        runId,
        fabId: input.fabId,
        fabVersion: input.fabVersion,
        fabHash: input.fabHash,
        overrideConfig: new Map(input.overrideConfig),
        pendingAt: this.nowIso(),
        startingAt: "",
        runningAt: "",
        finishedAt: "",
        status: { status: RunStatusValue.PENDING, subStatus: "", details: "" },
        flwrAid: input.flwrAid,
        federation: input.federation,
        bytesSent: 0n,
        bytesRecv: 0n,
        clientappRuntime: 0,
        runType: input.runType,
        seriesId: 0n,
        accountName: "",
      },
      federationConfig: input.federationConfig ? Buffer.from(input.federationConfig) : undefined,
      logs: [],
    });
    let taskId = randomUint64();
    while (this.tasks.has(taskId)) taskId = randomUint64();
    this.tasks.set(taskId, {
      taskId,
      runId,
      type: primaryTaskTypeOf(input.runType),
      fabHash: input.fabHash || undefined,
    });
    this.taskOfRun.set(runId, taskId);
    this.notifier.emit({ type: "run", runId, status: RunStatusValue.PENDING });
    return runId;
  }

  getRunInfo(filter: RunFilter = {}): Run[] {
    this.cleanupExpiredTokens();
    if (filter.limit !== undefined && !(Number.isInteger(filter.limit) && filter.limit >= 0))
      throw new LinkStateArgumentError(`limit must be a non-negative integer, got ${filter.limit}`);
    let runs = [...this.runs.values()].map((r) => r.run);
    const { runIds, statuses, flwrAids, federations } = filter;
    if (runIds) runs = runs.filter((r) => runIds.includes(r.runId));
    if (statuses) runs = runs.filter((r) => statuses.includes(r.status?.status ?? ""));
    if (flwrAids) runs = runs.filter((r) => flwrAids.includes(r.flwrAid));
    if (federations) runs = runs.filter((r) => federations.includes(r.federation));
    if (filter.orderBy === "pending_at") {
      const dir = filter.ascending === false ? -1 : 1;
      runs.sort((a, b) => (a.pendingAt < b.pendingAt ? -dir : a.pendingAt > b.pendingAt ? dir : 0));
    }
    if (filter.limit !== undefined) runs = runs.slice(0, filter.limit);
    return runs.map(copyRun);
  }

  getRun(runId: bigint): Run | undefined {
    this.cleanupExpiredTokens();
    const r = this.runs.get(runId);
    return r ? copyRun(r.run) : undefined;
  }

  getFederationConfig(runId: bigint): Uint8Array | undefined {
    const config = this.runs.get(runId)?.federationConfig;
    return config ? Buffer.from(config) : undefined;
  }

  getRunStatus(runIds: Iterable<bigint>): Map<bigint, RunStatus> {
    this.cleanupExpiredTokens();
    const out = new Map<bigint, RunStatus>();
    for (const id of runIds) {
      const status = this.runs.get(id)?.run.status;
      if (status) out.set(id, { ...status });
    }
    return out;
  }

  updateRunStatus(runId: bigint, status: RunStatus): boolean {
    this.cleanupExpiredTokens();
    const record = this.runs.get(runId);
    if (!record?.run.status) return false;
    if (!isValidTransition(record.run.status, status)) return false;
    const now = this.nowIso();
    if (status.status === RunStatusValue.STARTING) record.run.startingAt = now;
    else if (status.status === RunStatusValue.RUNNING) record.run.runningAt = now;
    else if (status.status === RunStatusValue.FINISHED) record.run.finishedAt = now;
    record.run.status = { ...status };
    this.notifier.emit({ type: "run", runId, status: status.status });
    return true;
  }

  storeTraffic(runId: bigint, traffic: { bytesSent: number; bytesRecv: number }): void {
    const { bytesSent, bytesRecv } = traffic;
    if (!(Number.isSafeInteger(bytesSent) && Number.isSafeInteger(bytesRecv)))
      throw new LinkStateArgumentError(`traffic must be integers, got ${bytesSent}/${bytesRecv}`);
    if (bytesSent < 0 || bytesRecv < 0)
      throw new LinkStateArgumentError(
        `Negative traffic values for run ${runId}: bytes_sent=${bytesSent}, bytes_recv=${bytesRecv}`,
      );
    if (bytesSent === 0 && bytesRecv === 0)
      throw new LinkStateArgumentError(
        `Both bytes_sent and bytes_recv cannot be zero for run ${runId}`,
      );
    const record = this.runs.get(runId);
    if (!record) throw new RunNotFoundError(runId);
    record.run.bytesSent += BigInt(bytesSent);
    record.run.bytesRecv += BigInt(bytesRecv);
  }

  addClientappRuntime(runId: bigint, runtime: number): void {
    const record = this.runs.get(runId);
    if (!record) throw new RunNotFoundError(runId);
    record.run.clientappRuntime += runtime;
  }

  // ------------------------------------------------------------------ messages

  storeMessageIns(message: Message): StoreMessageResult {
    const errors = validateMessage(message, false, this.nowSeconds());
    if (errors.length > 0) return { ok: false, reason: errors.join("; ") };
    const m = message.metadata!;
    if (!this.runs.has(m.runId))
      return { ok: false, reason: `Invalid run ID for Message: ${m.runId}` };
    this.tagOfflineNodes([m.dstNodeId]);
    const dst = this.nodes.get(m.dstNodeId);
    if (!dst || (dst.status !== NodeStatus.ONLINE && dst.status !== NodeStatus.OFFLINE))
      return { ok: false, reason: `Invalid destination node ID for Message: ${m.dstNodeId}` };
    this.removeIns(m.messageId);
    this.messageIns.set(m.messageId, { message: withoutContent(message), deliveredAt: "" });
    const ids = this.insByDst.get(m.dstNodeId) ?? new Set<string>();
    this.insByDst.set(m.dstNodeId, ids);
    ids.add(m.messageId);
    this.notifier.emit({
      type: "message-ins",
      runId: m.runId,
      dstNodeId: m.dstNodeId,
      messageId: m.messageId,
      groupId: m.groupId,
      messageType: m.messageType,
    });
    return { ok: true, messageId: m.messageId };
  }

  /** Deletes the instruction if it expired; returns it when still valid. */
  private validIns(messageId: string, nowSeconds: number): StoredMessage | undefined {
    const stored = this.messageIns.get(messageId);
    if (!stored) return undefined;
    const m = stored.message.metadata!;
    if (m.createdAt + m.ttl <= nowSeconds) {
      this.deleteMessages([messageId]);
      return undefined;
    }
    return stored;
  }

  getMessageIns(nodeId: bigint, limit?: number): Message[] {
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
      throw new LinkStateArgumentError("`limit` must be >= 1");
    const now = this.nowSeconds();
    const found: StoredMessage[] = [];
    for (const id of [...(this.insByDst.get(nodeId) ?? [])]) {
      const stored = this.validIns(id, now);
      if (stored && stored.message.metadata!.dstNodeId === nodeId && stored.deliveredAt === "")
        found.push(stored);
      if (limit !== undefined && found.length === limit) break;
    }
    const deliveredAt = this.nowIso();
    for (const s of found) s.deliveredAt = deliveredAt;
    return found.map((s) => copyMessage(s.message));
  }

  storeMessageRes(message: Message): StoreMessageResult {
    const now = this.nowSeconds();
    const errors = validateMessage(message, true, now);
    if (errors.length > 0) return { ok: false, reason: errors.join("; ") };
    const m = message.metadata!;
    const ins = this.validIns(m.replyToMessageId, now);
    if (!ins) return { ok: false, reason: `Message with ID ${m.replyToMessageId} does not exist.` };
    const problem = checkReplyAgainstInstruction(m, ins.message.metadata!);
    if (problem) return { ok: false, reason: problem };
    const previous = this.insToRes.get(m.replyToMessageId);
    if (previous !== undefined) this.messageRes.delete(previous);
    this.messageRes.set(m.messageId, { message: withoutContent(message), deliveredAt: "" });
    this.insToRes.set(m.replyToMessageId, m.messageId);
    this.notifier.emit({
      type: "message-res",
      runId: m.runId,
      replyToMessageId: m.replyToMessageId,
    });
    return { ok: true, messageId: m.messageId };
  }

  getMessageRes(messageIds: Iterable<string>): Message[] {
    const now = this.nowSeconds();
    const out: Message[] = [];
    const deliveredAt = this.nowIso();
    for (const id of new Set(messageIds)) {
      const ins = this.validIns(id, now);
      if (!ins) {
        out.push(messageUnavailableReply(id, now));
        continue;
      }
      const insMeta = ins.message.metadata!;
      const resId = this.insToRes.get(id);
      const res = resId === undefined ? undefined : this.messageRes.get(resId);
      if (res) {
        if (res.deliveredAt !== "") continue;
        res.deliveredAt = deliveredAt;
        out.push(
          messageTtlHasExpired(res.message.metadata!, now)
            ? instructionErrorReply(insMeta, "reply-unavailable", now)
            : copyMessage(res.message),
        );
        continue;
      }
      const dst = this.nodes.get(insMeta.dstNodeId);
      const cause = nodeUnavailableCause(
        ins.deliveredAt,
        dst && {
          status: dst.status,
          onlineUntil: dst.onlineUntil,
          lastActivatedAt: dst.lastActivatedAt,
          sessionEnd: this.sessionEnd.get(dst.nodeId) ?? "",
        },
        now,
      );
      if (cause) out.push(instructionErrorReply(insMeta, "node-unavailable", now, cause));
    }
    return out;
  }

  /** Removes an instruction from the map and the per-node index. */
  private removeIns(id: string): void {
    const stored = this.messageIns.get(id);
    if (!stored) return;
    this.messageIns.delete(id);
    const dst = stored.message.metadata!.dstNodeId;
    const ids = this.insByDst.get(dst);
    ids?.delete(id);
    if (ids?.size === 0) this.insByDst.delete(dst);
  }

  deleteMessages(messageInsIds: Iterable<string>): void {
    for (const id of messageInsIds) {
      this.removeIns(id);
      const resId = this.insToRes.get(id);
      if (resId !== undefined) {
        this.insToRes.delete(id);
        this.messageRes.delete(resId);
      }
    }
  }

  getMessageIdsFromRunId(runId: bigint): Set<string> {
    const out = new Set<string>();
    for (const [id, s] of this.messageIns) if (s.message.metadata!.runId === runId) out.add(id);
    return out;
  }

  numMessageIns(): number {
    return this.messageIns.size;
  }

  numMessageRes(): number {
    return this.messageRes.size;
  }

  // ------------------------------------------------------------------ contexts and logs

  getServerAppContext(runId: bigint): Context | undefined {
    const c = this.contexts.get(runId);
    return c ? structuredClone(c) : undefined;
  }

  setServerAppContext(runId: bigint, context: Context): void {
    if (!this.runs.has(runId)) throw new RunNotFoundError(runId);
    this.contexts.set(runId, structuredClone(context));
  }

  addServerAppLog(runId: bigint, text: string): void {
    const record = this.runs.get(runId);
    if (!record) throw new RunNotFoundError(runId);
    const last = record.logs.at(-1)?.timestamp ?? 0;
    // Keep timestamps strictly increasing so "after latest" never skips a line.
    const timestamp = Math.max(this.nowSeconds(), last + 1e-6);
    record.logs.push({ timestamp, text });
    let total = (this.logBytes.get(runId) ?? 0) + logEntryBytes(text);
    let drop = 0;
    while (total > this.runLogMaxBytes && drop < record.logs.length - 1) {
      total -= logEntryBytes(record.logs[drop]!.text);
      drop++;
    }
    if (drop > 0) record.logs.splice(0, drop);
    this.logBytes.set(runId, total);
    this.notifier.emit({ type: "log", runId });
  }

  getServerAppLog(
    runId: bigint,
    afterTimestamp?: number,
  ): { logs: string; latestTimestamp: number } {
    const record = this.runs.get(runId);
    if (!record) throw new RunNotFoundError(runId);
    const after = afterTimestamp ?? 0;
    const lines = record.logs.filter((l) => l.timestamp > after);
    return {
      logs: lines.map((l) => l.text).join(""),
      latestTimestamp: lines.length > 0 ? lines[lines.length - 1]!.timestamp : 0,
    };
  }

  // ------------------------------------------------------------------ FABs

  storeFab(fab: Fab): string {
    const hash = createHash("sha256").update(fab.content).digest("hex");
    if (fab.hashStr && fab.hashStr !== hash)
      throw new LinkStateArgumentError(
        `FAB hash mismatch: provided ${fab.hashStr}, computed ${hash}`,
      );
    this.fabs.set(hash, {
      hashStr: hash,
      content: Buffer.from(fab.content),
      verifications: new Map(fab.verifications),
    });
    return hash;
  }

  getFab(hash: string): Fab | undefined {
    const fab = this.fabs.get(hash);
    return fab
      ? { hashStr: fab.hashStr, content: fab.content, verifications: new Map(fab.verifications) }
      : undefined;
  }

  // ------------------------------------------------------------------ tokens

  private cleanupExpiredTokens(): void {
    const now = this.nowSeconds();
    for (const [runId, record] of [...this.tokens]) {
      if (record.activeUntil >= now) continue;
      this.tokens.delete(runId);
      this.tokenToRun.delete(record.token);
      const run = this.runs.get(runId)?.run;
      if (run && !run.finishedAt) {
        run.status = {
          status: RunStatusValue.FINISHED,
          subStatus: RunSubStatus.FAILED,
          details: RUN_FAILURE_DETAILS_NO_HEARTBEAT,
        };
        run.finishedAt = isoTimestamp(record.activeUntil * 1000);
        this.notifier.emit({ type: "run", runId, status: RunStatusValue.FINISHED });
      }
    }
  }

  createToken(runId: bigint): string | undefined {
    if (this.tokens.has(runId)) return undefined;
    const token = newAppToken();
    this.tokens.set(runId, {
      token,
      activeUntil: this.nowSeconds() + HEARTBEAT_DEFAULT_INTERVAL,
    });
    this.tokenToRun.set(token, runId);
    return token;
  }

  verifyToken(runId: bigint, token: string): boolean {
    this.cleanupExpiredTokens();
    return this.tokens.get(runId)?.token === token;
  }

  deleteToken(runId: bigint): void {
    const record = this.tokens.get(runId);
    if (!record) return;
    this.tokens.delete(runId);
    this.tokenToRun.delete(record.token);
  }

  getRunIdByToken(token: string): bigint | undefined {
    this.cleanupExpiredTokens();
    return this.tokenToRun.get(token);
  }

  acknowledgeAppHeartbeat(token: string): boolean {
    this.cleanupExpiredTokens();
    const runId = this.tokenToRun.get(token);
    if (runId === undefined) return false;
    const record = this.tokens.get(runId)!;
    record.activeUntil = this.nowSeconds() + HEARTBEAT_PATIENCE * HEARTBEAT_DEFAULT_INTERVAL;
    return true;
  }

  // ------------------------------------------------------------------ Runtime API tasks

  getPrimaryTask(runId: bigint): Task | undefined {
    return currentTask(this, this.taskLookup.byRunId(runId));
  }

  getTask(taskId: bigint): Task | undefined {
    return currentTask(this, this.tasks.get(taskId));
  }

  claimTask(types: readonly string[]): { task: Task; token: string } | undefined {
    return claimTask(this, this.taskLookup, types);
  }

  getTaskByToken(token: string): Task | undefined {
    return taskByToken(this, this.taskLookup, token);
  }

  activateTask(taskId: bigint): boolean {
    return activateTask(this, this.taskLookup, taskId);
  }

  finishTask(taskId: bigint, subStatus: string, details: string): boolean {
    return finishTask(this, this.taskLookup, taskId, subStatus, details);
  }

  // ------------------------------------------------------------------ nonces

  reserveNonce(namespace: string, nonce: string, expiresAt: number): boolean {
    if (namespace === "" || nonce === "") return false;
    const now = this.nowSeconds();
    for (const [k, until] of this.nonces) if (until < now) this.nonces.delete(k);
    const key = `${namespace}\u0000${nonce}`;
    if (this.nonces.has(key)) return false;
    this.nonces.set(key, expiresAt);
    return true;
  }

  // ------------------------------------------------------------------ events

  subscribe(listener: LinkStateListener): () => void {
    return this.notifier.subscribe(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.notifier.clear();
  }
}

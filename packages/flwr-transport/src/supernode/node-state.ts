/**
 * The SuperNode's in-memory state for running ClientApps (Flower's `InMemoryNodeState` +
 * `InMemoryCoreState`): runs, FABs and contexts learned from the SuperLink, instructions waiting
 * for a ClientApp and its replies, app tokens, and an object store holding the objects of both.
 *
 * Rules (Flower's):
 * - An app token (256 hex chars) is valid for 30 s; each app heartbeat extends it to now + 60 s.
 *   A run has at most one token; PushAppOutputs deletes it.
 * - "Pending" runs have an instruction not yet retrieved and no token (ListAppsToLaunch).
 * - When a token expires, every retrieved instruction of its run without a reply gets the reply
 *   CLIENT_APP_CRASHED (8) "ClientApp stopped responding.".
 *
 * Waiters are woken by events (`subscribe`), never by polling; token expiry is checked by a
 * 1 s timer that runs only while tokens exist.
 */
import { randomBytes } from "node:crypto";
import { ErrorCode, Message, MessageError, messageFromProto, type ObjectTree } from "@flwr-ts/core";
import type { Context, Fab, Message as ProtoMessage, Run } from "@flwr-ts/core/proto";
import { prepareOutgoing } from "../app-runtime/object-transfer.js";
import { trace } from "../diagnostics/trace.js";
import { MemoryObjectStore } from "../object-store/memory-object-store.js";
import type { ObjectStore } from "../object-store/object-store.js";

/** Seconds a new token is valid. */
export const TOKEN_INITIAL_TTL_S = 30;
/** Seconds a heartbeat extends a token by. */
export const TOKEN_HEARTBEAT_TTL_S = 60;
/** Reason of the reply synthesized for a crashed ClientApp (Flower's text). */
export const CLIENT_APP_CRASHED_REASON = "ClientApp stopped responding.";

/** A change in the node state. */
export type NodeStateEvent =
  | { readonly type: "instruction"; readonly runId: bigint }
  | { readonly type: "reply"; readonly runId: bigint; readonly replyToMessageId: string }
  | { readonly type: "token"; readonly runId: bigint };

interface StoredMessage {
  readonly message: ProtoMessage;
  retrieved: boolean;
  startedAt?: number;
  finishedAt?: number;
}

interface TokenEntry {
  readonly token: string;
  activeUntil: number;
}

/** In-memory SuperNode state. */
export class NodeState {
  /** Objects of instructions and replies. */
  readonly store: ObjectStore = new MemoryObjectStore();
  private readonly runs = new Map<bigint, Run>();
  private readonly fabs = new Map<string, Fab>();
  private readonly contexts = new Map<bigint, Context>();
  private readonly messages = new Map<string, StoredMessage>();
  private readonly tokens = new Map<bigint, TokenEntry>();
  private readonly tokenRuns = new Map<string, bigint>();
  private readonly listeners = new Set<(event: NodeStateEvent) => void>();
  private expiryTimer: NodeJS.Timeout | undefined;

  /** @param clock - epoch milliseconds (tests inject one). */
  constructor(private readonly clock: () => number = Date.now) {}

  private now(): number {
    return this.clock() / 1000;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (event: NodeStateEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: NodeStateEvent): void {
    for (const l of [...this.listeners]) l(event);
  }

  // ------------------------------------------------------------- runs, FABs, contexts
  /** Stores a run. */
  storeRun(run: Run): void {
    this.runs.set(run.runId, run);
  }
  /** A run, if known. */
  getRun(runId: bigint): Run | undefined {
    return this.runs.get(runId);
  }
  /** Stores a FAB by its hash. */
  storeFab(fab: Fab): void {
    this.fabs.set(fab.hashStr, fab);
  }
  /** A FAB, if known. */
  getFab(hash: string): Fab | undefined {
    return this.fabs.get(hash);
  }
  /** Stores the ClientApp context of a run. */
  storeContext(context: Context): void {
    this.contexts.set(context.runId, context);
  }
  /** The ClientApp context of a run. */
  getContext(runId: bigint): Context | undefined {
    return this.contexts.get(runId);
  }

  // ------------------------------------------------------------- messages
  /**
   * Stores a received instruction with all its objects (preregistered and put).
   * @param message - content-less proto with `message_id` set.
   */
  storeInstruction(
    message: ProtoMessage,
    tree: ObjectTree,
    objects: ReadonlyMap<string, Uint8Array>,
  ): void {
    const md = message.metadata!;
    this.store.preregister(md.runId, tree);
    for (const [id, content] of objects) this.store.put(id, content);
    this.messages.set(md.messageId, { message, retrieved: false });
    trace("ns.ins", { id: md.messageId });
    this.emit({ type: "instruction", runId: md.runId });
  }

  /** Runs with an instruction not yet retrieved and no token (Flower's rule). */
  runIdsWithPendingMessages(): bigint[] {
    this.expireTokens();
    const ids = new Set<bigint>();
    for (const entry of this.messages.values()) {
      const md = entry.message.metadata!;
      if (md.replyToMessageId === "" && !entry.retrieved) ids.add(md.runId);
    }
    for (const runId of this.tokens.keys()) ids.delete(runId);
    return [...ids];
  }

  /** Takes the next unretrieved instruction of a run (marks it retrieved, starts its clock). */
  takeInstruction(runId: bigint): ProtoMessage | undefined {
    for (const entry of this.messages.values()) {
      const md = entry.message.metadata!;
      if (md.runId !== runId || md.replyToMessageId !== "" || entry.retrieved) continue;
      entry.retrieved = true;
      entry.startedAt = this.now();
      return entry.message;
    }
    return undefined;
  }

  /**
   * Stores a reply (its objects are preregistered by the caller and pushed by the ClientApp).
   * @returns false when it replies to no stored instruction or a reply already exists.
   */
  storeReply(message: ProtoMessage): boolean {
    const md = message.metadata!;
    const ins = this.messages.get(md.replyToMessageId);
    if (!ins || md.messageId === "" || this.messages.has(md.messageId)) return false;
    ins.finishedAt = this.now();
    this.messages.set(md.messageId, { message, retrieved: false });
    trace("ns.reply", { id: md.messageId, to: md.replyToMessageId });
    this.emit({ type: "reply", runId: md.runId, replyToMessageId: md.replyToMessageId });
    return true;
  }

  /** The reply to an instruction, if stored. */
  getReply(instructionId: string): ProtoMessage | undefined {
    for (const entry of this.messages.values())
      if (entry.message.metadata?.replyToMessageId === instructionId) return entry.message;
    return undefined;
  }

  /** Seconds the ClientApp took for an instruction (0 when unknown). */
  processingDuration(instructionId: string): number {
    const entry = this.messages.get(instructionId);
    if (entry?.startedAt === undefined || entry.finishedAt === undefined) return 0;
    return Math.max(0, entry.finishedAt - entry.startedAt);
  }

  /** Deletes messages and their objects. */
  deleteMessages(messageIds: Iterable<string>): void {
    for (const id of messageIds) {
      if (this.messages.delete(id)) this.store.deleteMessage(id);
    }
  }

  // ------------------------------------------------------------- tokens
  /** A new token for the run, or undefined when it already has one. */
  createToken(runId: bigint): string | undefined {
    this.expireTokens();
    if (this.tokens.has(runId)) return undefined;
    const token = randomBytes(128).toString("hex");
    this.tokens.set(runId, { token, activeUntil: this.now() + TOKEN_INITIAL_TTL_S });
    this.tokenRuns.set(token, runId);
    this.scheduleExpiry();
    this.emit({ type: "token", runId });
    return token;
  }

  /** True when `token` is the run's current token. */
  verifyToken(runId: bigint, token: string): boolean {
    this.expireTokens();
    return this.tokens.get(runId)?.token === token;
  }

  /** The run of a current token. */
  getRunIdByToken(token: string): bigint | undefined {
    this.expireTokens();
    return this.tokenRuns.get(token);
  }

  /** Deletes the run's token. */
  deleteToken(runId: bigint): void {
    const entry = this.tokens.get(runId);
    if (!entry) return;
    this.tokens.delete(runId);
    this.tokenRuns.delete(entry.token);
    this.emit({ type: "token", runId });
  }

  /** Extends a current token to now + 60 s. */
  acknowledgeAppHeartbeat(token: string): boolean {
    this.expireTokens();
    const runId = this.tokenRuns.get(token);
    const entry = runId === undefined ? undefined : this.tokens.get(runId);
    if (!entry) return false;
    entry.activeUntil = this.now() + TOKEN_HEARTBEAT_TTL_S;
    return true;
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer || this.tokens.size === 0) return;
    this.expiryTimer = setInterval(() => {
      this.expireTokens();
      if (this.tokens.size === 0) {
        clearInterval(this.expiryTimer);
        this.expiryTimer = undefined;
      }
    }, 1000);
    this.expiryTimer.unref();
  }

  /** Deletes expired tokens and answers their runs' retrieved instructions with CLIENT_APP_CRASHED. */
  expireTokens(): void {
    const now = this.now();
    for (const [runId, entry] of [...this.tokens]) {
      if (entry.activeUntil > now) continue;
      this.tokens.delete(runId);
      this.tokenRuns.delete(entry.token);
      for (const stored of [...this.messages.values()]) {
        const md = stored.message.metadata!;
        if (md.runId !== runId || md.replyToMessageId !== "" || !stored.retrieved) continue;
        if (this.getReply(md.messageId)) continue;
        this.storeCrashReply(stored.message);
      }
      this.emit({ type: "token", runId });
    }
  }

  private storeCrashReply(instruction: ProtoMessage): void {
    const ins = messageFromProto(instruction);
    ins.metadata.messageId = instruction.metadata!.messageId;
    const reply = new Message(
      new MessageError(ErrorCode.CLIENT_APP_CRASHED, CLIENT_APP_CRASHED_REASON),
      { replyTo: ins },
    );
    const out = prepareOutgoing(reply);
    this.store.preregister(ins.metadata.runId, out.deflated.tree);
    for (const [id, content] of out.deflated.objects) this.store.put(id, content);
    this.storeReply(out.proto);
  }

  /** Stops timers and drops everything. */
  close(): void {
    clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    this.listeners.clear();
    this.store.close();
  }
}

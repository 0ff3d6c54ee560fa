/**
 * An in-process {@link Grid}: delivers instructions straight to {@link ClientApp}s in the same
 * process. Every message crosses Flower's object format (deflate → object bytes → inflate) in
 * both directions, so this path exercises the same serialization as a deployment.
 *
 * Used by unit tests and by `simulate()`. No polling: `sendAndReceive` resolves as soon as the
 * last reply is stored.
 */
import type { ClientApp } from "../app/client-app.js";
import { formatExceptionReason } from "../app/errors.js";
import { Context, type UserConfig } from "../message/context.js";
import { ErrorCode, MessageError } from "../message/error.js";
import { Message } from "../message/message.js";
import { MessageType } from "../message/message-type.js";
import { Metadata } from "../message/metadata.js";
import { deflateMessage } from "../objects/deflate.js";
import { inflateMessage } from "../objects/inflate.js";
import {
  type Grid,
  InvalidInstructionError,
  type SendAndReceiveOptions,
  SUPERLINK_NODE_ID,
  stampInstruction,
} from "./grid.js";

/** Reason of a synthesized `MESSAGE_UNAVAILABLE` reply (Flower's text). */
export const MESSAGE_UNAVAILABLE_ERROR_REASON =
  "Error: Message Unavailable - The requested message could not be found in the " +
  "database. It may have expired due to its TTL, been deleted because the " +
  "destination SuperNode was removed from the federation, or never existed.";

/** Reason of a synthesized `NODE_UNAVAILABLE` reply (Flower's text). */
export const NODE_UNAVAILABLE_ERROR_REASON =
  "Error: Node Unavailable — The destination node failed to report a heartbeat " +
  "within 2 × its expected interval.";

/** A node of an {@link InMemoryGrid}. */
export interface InMemoryNodeSpec {
  /** The ClientApp this node runs. */
  clientApp: ClientApp;
  /** Node id (default: random uint64 ≥ 2). */
  nodeId?: bigint;
  /** The node's `Context.nodeConfig` (like `--node-config`). */
  nodeConfig?: UserConfig;
}

/** Options of an {@link InMemoryGrid}. */
export interface InMemoryGridOptions {
  /** Run id (default: random uint64). */
  runId?: bigint;
  /** `Context.runConfig` every node sees. */
  runConfig?: UserConfig;
  /** Initial nodes. */
  nodes?: readonly InMemoryNodeSpec[];
  /**
   * Pass messages through the object format (deflate/inflate) — default true. Turning it off
   * hands the same Message objects to the ClientApps (faster, but skips serialization checks).
   */
  serialize?: boolean;
}

interface Node {
  readonly nodeId: bigint;
  readonly clientApp: ClientApp;
  readonly context: Context;
  queue: Promise<void>;
}

interface Pending {
  readonly nodeId: bigint;
  readonly instruction: Metadata;
}

interface Waiter {
  readonly ids: readonly string[];
  readonly resolve: () => void;
}

/** A random uint64 that is neither 0 nor the SuperLink's id 1. */
function randomId(): bigint {
  const a = new BigUint64Array(1);
  for (;;) {
    crypto.getRandomValues(a);
    if (a[0]! > SUPERLINK_NODE_ID) return a[0]!;
  }
}

/** An in-process Grid that runs ClientApps directly (see the module documentation). */
export class InMemoryGrid implements Grid {
  /** The run id. */
  readonly runId: bigint;
  private readonly runConfig: UserConfig;
  private readonly serialize: boolean;
  private readonly nodes = new Map<bigint, Node>();
  private readonly pending = new Map<string, Pending>();
  private readonly replies = new Map<string, Message>();
  private readonly waiters = new Set<Waiter>();

  /** @param options - see {@link InMemoryGridOptions}. */
  constructor(options: InMemoryGridOptions = {}) {
    this.runId = options.runId ?? randomId();
    this.runConfig = { ...(options.runConfig ?? {}) };
    this.serialize = options.serialize ?? true;
    for (const spec of options.nodes ?? []) this.addNode(spec);
  }

  /**
   * Adds a node running `spec.clientApp`; it is available to the run at once.
   * @returns its node id.
   * @throws InvalidInstructionError when the node id is 0, 1 or already used.
   */
  addNode(spec: InMemoryNodeSpec): bigint {
    const nodeId = spec.nodeId ?? randomId();
    if (nodeId <= SUPERLINK_NODE_ID || this.nodes.has(nodeId)) {
      throw new InvalidInstructionError(
        `node id ${nodeId} is invalid or already used; node ids are unique uint64 values ≥ 2`,
      );
    }
    const context = new Context({
      runId: this.runId,
      nodeId,
      nodeConfig: spec.nodeConfig ?? {},
      runConfig: this.runConfig,
    });
    this.nodes.set(nodeId, {
      nodeId,
      clientApp: spec.clientApp,
      context,
      queue: Promise.resolve(),
    });
    return nodeId;
  }

  /**
   * Removes a node. Instructions still waiting for its reply get Flower's `NODE_UNAVAILABLE`
   * error reply (code 5), as the SuperLink synthesizes for a node that went offline.
   */
  removeNode(nodeId: bigint): void {
    if (!this.nodes.delete(nodeId)) return;
    for (const [id, p] of this.pending) {
      if (p.nodeId === nodeId) this.storeReply(id, this.systemError(p.instruction));
    }
  }

  /** The context a node's ClientApp sees (its `state` persists across messages). */
  contextOf(nodeId: bigint): Context {
    const node = this.nodes.get(nodeId);
    if (node === undefined) throw new InvalidInstructionError(`unknown node id ${nodeId}`);
    return node.context;
  }

  /** Ids of the current nodes. */
  async getNodeIds(): Promise<bigint[]> {
    return [...this.nodes.keys()];
  }

  /**
   * Stamps and delivers each message (see {@link stampInstruction}); the ClientApps run
   * asynchronously, one message at a time per node.
   * @throws InvalidInstructionError for an invalid instruction or an unknown destination
   *   (nothing is delivered then).
   */
  async pushMessages(messages: Iterable<Message>): Promise<string[]> {
    const batch = [...messages];
    const ids = batch.map((m) => {
      const node = this.nodes.get(m.metadata.dstNodeId);
      if (node === undefined) {
        throw new InvalidInstructionError(
          `no node with id ${m.metadata.dstNodeId} in this run; use an id from getNodeIds()`,
        );
      }
      return stampInstruction(m, this.runId);
    });
    batch.forEach((m, i) => {
      this.deliver(m, ids[i]!);
    });
    return ids;
  }

  /**
   * Returns the replies available for the given instruction ids and forgets them. Ids that
   * are neither pending nor answered (never pushed, or already pulled) yield Flower's
   * `MESSAGE_UNAVAILABLE` error reply (code 3); ids still pending yield nothing.
   */
  async pullMessages(messageIds: Iterable<string>): Promise<Message[]> {
    const out: Message[] = [];
    for (const id of new Set(messageIds)) {
      const reply = this.replies.get(id);
      if (reply !== undefined) {
        this.replies.delete(id);
        out.push(reply);
      } else if (!this.pending.has(id)) {
        out.push(messageUnavailable(id));
      }
    }
    return out;
  }

  /**
   * Pushes the messages and resolves with their replies as soon as all have arrived, or with
   * those received when `timeout` seconds have passed.
   */
  async sendAndReceive(
    messages: Iterable<Message>,
    options: SendAndReceiveOptions = {},
  ): Promise<Message[]> {
    const ids = await this.pushMessages(messages);
    await this.waitFor(ids, options.timeout);
    const available = ids.filter((id) => this.replies.has(id));
    return this.pullMessages(available);
  }

  private allAnswered(ids: readonly string[]): boolean {
    return ids.every((id) => this.replies.has(id) || !this.pending.has(id));
  }

  private waitFor(ids: readonly string[], timeout: number | undefined): Promise<void> {
    if (this.allAnswered(ids)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        ids,
        resolve: () => {
          if (timer !== undefined) clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      this.waiters.add(waiter);
      if (timeout !== undefined) timer = setTimeout(waiter.resolve, Math.max(0, timeout * 1000));
    });
  }

  private storeReply(instructionId: string, reply: Message): void {
    if (!this.pending.delete(instructionId)) return;
    this.replies.set(instructionId, reply);
    for (const w of [...this.waiters]) if (this.allAnswered(w.ids)) w.resolve();
  }

  private deliver(message: Message, id: string): void {
    const node = this.nodes.get(message.metadata.dstNodeId)!;
    this.pending.set(id, { nodeId: node.nodeId, instruction: message.metadata.with({}) });
    const wire = this.serialize ? deflateMessage(message) : undefined;
    node.queue = node.queue.then(async () => {
      if (!this.pending.has(id) || this.nodes.get(node.nodeId) !== node) return;
      let reply: Message;
      try {
        let received = message;
        if (wire !== undefined) {
          received = inflateMessage(wire.objects, wire.messageId);
          received.metadata.messageId = wire.messageId;
        }
        reply = this.transmitReply(await node.clientApp.handle(received, node.context));
      } catch (err) {
        // The reply could not be serialized (or the instruction not inflated): report it the
        // way a SuperNode reports a failing ClientApp.
        reply = this.transmitReply(
          new Message(
            new MessageError(ErrorCode.CLIENT_APP_RAISED_EXCEPTION, formatExceptionReason(err)),
            { replyTo: message },
          ),
        );
      }
      this.storeReply(id, reply);
    });
  }

  /** Sets the reply's message id and passes it through the object format. */
  private transmitReply(reply: Message): Message {
    reply.metadata.messageId = "";
    if (!this.serialize) return reply;
    const wire = deflateMessage(reply);
    const out = inflateMessage(wire.objects, wire.messageId);
    out.metadata.messageId = wire.messageId;
    return out;
  }

  private systemError(ins: Metadata): Message {
    const now = Date.now() / 1000;
    const md = new Metadata({
      runId: ins.runId,
      messageId: "",
      srcNodeId: SUPERLINK_NODE_ID,
      dstNodeId: SUPERLINK_NODE_ID,
      replyToMessageId: ins.messageId,
      groupId: ins.groupId,
      createdAt: now,
      ttl: Math.max(ins.ttl - (now - ins.createdAt), 0),
      messageType: ins.messageType,
    });
    return new Message(
      md,
      new MessageError(ErrorCode.NODE_UNAVAILABLE, NODE_UNAVAILABLE_ERROR_REASON),
    );
  }
}

function messageUnavailable(replyTo: string): Message {
  const md = new Metadata({
    runId: 0n,
    messageId: "",
    srcNodeId: SUPERLINK_NODE_ID,
    dstNodeId: SUPERLINK_NODE_ID,
    replyToMessageId: replyTo,
    groupId: "",
    createdAt: Date.now() / 1000,
    ttl: 0,
    messageType: MessageType.SYSTEM,
  });
  return new Message(
    md,
    new MessageError(ErrorCode.MESSAGE_UNAVAILABLE, MESSAGE_UNAVAILABLE_ERROR_REASON),
  );
}

/**
 * The simulation engine: N virtual SuperNodes behind a {@link Grid}, their ClientApp run on a
 * {@link WorkerPool} of threads (the counterpart of Python Flower's Simulation Engine with its
 * Ray backend, `flwr.server.superlink.fleet.vce`).
 *
 * Memory stays flat in the number of nodes: a virtual SuperNode is its id (8 bytes in a
 * `BigUint64Array`) until it receives a message; afterwards the engine keeps only its Context
 * state, serialized (`flwr.proto.RecordDict` bytes). Only the nodes the ServerApp sends to do any
 * work. Each node config holds Flower's `partition-id` (the node's index) and `num-partitions`.
 *
 * Failures do not stop the simulation: a ClientApp that throws, crashes its thread, or runs past
 * its time budget (the instruction's remaining TTL, capped by `clientappTimeoutS`) yields an
 * error reply (`CLIENT_APP_RAISED_EXCEPTION`, or `CLIENT_APP_CRASHED`), which strategies count
 * as a failure. When `sendAndReceive`'s timeout passes, its unanswered tasks are cancelled.
 */
import {
  ErrorCode,
  type Grid,
  InvalidInstructionError,
  Message,
  MessageError,
  messageFromProto,
  messageToProto,
  objectIdOfInflatable,
  type RecordDict,
  recordDictFromProto,
  type SendAndReceiveOptions,
  SUPERLINK_NODE_ID,
  stampInstruction,
  type UserConfig,
} from "@flwr-ts/core";
import { Message as PbMessage, RecordDict as PbRecordDict } from "@flwr-ts/core/proto";
import { type PoolOutcome, WorkerPool } from "./worker-pool.js";

/** How the engine reports progress and failures (Flower's log levels). */
export type EngineLog = (level: "INFO" | "WARNING" | "ERROR" | "DEBUG", message: string) => void;

/** Options of {@link SimulationEngine.start}. */
export interface SimulationEngineOptions {
  /** The app's directory. */
  readonly appDir: string;
  /** The ClientApp's module (relative to `appDir`) and export. */
  readonly clientApp: { readonly module: string; readonly exportName: string };
  /** Root of installed apps (resolve hooks for `@flwr-ts/*`); default: the parent of `appDir`. */
  readonly appsRoot?: string;
  /** The run id. */
  readonly runId: bigint;
  /** The fused run config. */
  readonly runConfig: UserConfig;
  /** Number of virtual SuperNodes (≥ 1). */
  readonly numSupernodes: number;
  /** Worker threads (≥ 1). */
  readonly workers: number;
  /** Let the ClientApps' output through (Flower's `verbose`). */
  readonly verbose?: boolean;
  /** Upper bound of one ClientApp call in seconds (default: only the message TTL). */
  readonly clientappTimeoutS?: number;
  /** Progress and failure lines (default: none). */
  readonly log?: EngineLog;
}

interface Pending {
  readonly instruction: Message;
  /** The pool's task id once queued there. */
  taskId: number | undefined;
  readonly batch: Batch;
}

/** The messages of one `pushMessages` call, for progress lines. */
interface Batch {
  readonly round: string;
  readonly total: number;
  done: number;
  failed: number;
  nextReport: number;
  readonly startedAt: number;
}

interface Waiter {
  readonly ids: readonly string[];
  readonly resolve: () => void;
}

/** Unique random uint64 node ids ≥ 2. */
function randomNodeIds(n: number): BigUint64Array {
  const ids = new BigUint64Array(n);
  const seen = new Set<bigint>();
  const one = new BigUint64Array(1);
  for (let i = 0; i < n; i++) {
    for (;;) {
      crypto.getRandomValues(one);
      const id = one[0]!;
      if (id > SUPERLINK_NODE_ID && !seen.has(id)) {
        seen.add(id);
        ids[i] = id;
        break;
      }
    }
  }
  return ids;
}

/** The engine and its Grid (see the module documentation). */
export class SimulationEngine implements Grid {
  /** The run id. */
  readonly runId: bigint;
  private readonly options: SimulationEngineOptions;
  private readonly pool: WorkerPool;
  private readonly nodeIds: BigUint64Array;
  private readonly partitionOf = new Map<bigint, number>();
  /** Context state of the nodes that have run, serialized. */
  private readonly states = new Map<bigint, Uint8Array>();
  /** Per node, the end of its last queued task (a node handles one message at a time). */
  private readonly nodeQueue = new Map<bigint, Promise<void>>();
  private readonly pending = new Map<string, Pending>();
  private readonly replies = new Map<string, Message>();
  private readonly waiters = new Set<Waiter>();
  private readonly clientTimeoutMs: number;

  private constructor(options: SimulationEngineOptions, pool: WorkerPool) {
    this.options = options;
    this.runId = options.runId;
    this.pool = pool;
    this.nodeIds = randomNodeIds(options.numSupernodes);
    this.nodeIds.forEach((id, i) => {
      this.partitionOf.set(id, i);
    });
    this.clientTimeoutMs =
      options.clientappTimeoutS === undefined ? Infinity : options.clientappTimeoutS * 1000;
  }

  /**
   * Starts the worker threads (each loads the ClientApp) and registers the virtual SuperNodes.
   * @throws RangeError for a bad node or worker count; Error when the ClientApp cannot load.
   */
  static async start(options: SimulationEngineOptions): Promise<SimulationEngine> {
    const n = options.numSupernodes;
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`num-supernodes must be a positive integer, got ${String(n)}`);
    if (
      options.clientappTimeoutS !== undefined &&
      !(Number.isFinite(options.clientappTimeoutS) && options.clientappTimeoutS > 0)
    )
      throw new RangeError(
        `clientappTimeoutS must be a positive number, got ${options.clientappTimeoutS}`,
      );
    const pool = await WorkerPool.start({
      size: options.workers,
      verbose: options.verbose ?? false,
      workerData: {
        appDir: options.appDir,
        module: options.clientApp.module,
        exportName: options.clientApp.exportName,
        appsRoot: options.appsRoot ?? `${options.appDir}/..`,
        runId: options.runId,
        runConfig: { ...options.runConfig },
        numPartitions: n,
      },
    });
    return new SimulationEngine(options, pool);
  }

  /** Number of worker threads. */
  get workers(): number {
    return this.pool.size;
  }

  /** Number of virtual SuperNodes holding a Context (those that ran at least once). */
  get storedContexts(): number {
    return this.states.size;
  }

  /** The `partition-id` of a virtual SuperNode. */
  partitionIdOf(nodeId: bigint): number | undefined {
    return this.partitionOf.get(nodeId);
  }

  /** The Context state of a virtual SuperNode, or undefined when it never ran. */
  stateOf(nodeId: bigint): RecordDict | undefined {
    const bytes = this.states.get(nodeId);
    return bytes === undefined ? undefined : recordDictFromProto(PbRecordDict.decode(bytes));
  }

  /** Ids of all virtual SuperNodes. */
  async getNodeIds(): Promise<bigint[]> {
    return Array.from(this.nodeIds);
  }

  /**
   * Stamps the messages and queues them on the worker pool.
   * @throws InvalidInstructionError for an invalid instruction or an unknown destination
   *   (nothing is queued then).
   */
  async pushMessages(messages: Iterable<Message>): Promise<string[]> {
    const batch = [...messages];
    const ids = batch.map((m) => {
      if (!this.partitionOf.has(m.metadata.dstNodeId))
        throw new InvalidInstructionError(
          `no node with id ${m.metadata.dstNodeId} in this run; use an id from getNodeIds()`,
        );
      return stampInstruction(m, this.runId);
    });
    const progress: Batch = {
      round: batch[0]?.metadata.groupId ?? "",
      total: batch.length,
      done: 0,
      failed: 0,
      nextReport: Math.max(1, Math.ceil(batch.length / 4)),
      startedAt: performance.now(),
    };
    batch.forEach((m, i) => {
      this.schedule(m, ids[i]!, progress);
    });
    return ids;
  }

  /** Returns the replies available for these ids (once each); unknown ids are skipped. */
  async pullMessages(messageIds: Iterable<string>): Promise<Message[]> {
    const out: Message[] = [];
    for (const id of new Set(messageIds)) {
      const reply = this.replies.get(id);
      if (reply !== undefined) {
        this.replies.delete(id);
        out.push(reply);
      }
    }
    return out;
  }

  /**
   * Pushes the messages and resolves with their replies once all have arrived, or when
   * `timeout` seconds have passed (the unanswered tasks are then cancelled).
   */
  async sendAndReceive(
    messages: Iterable<Message>,
    options: SendAndReceiveOptions = {},
  ): Promise<Message[]> {
    const ids = await this.pushMessages(messages);
    await this.waitFor(ids, options.timeout);
    const late = ids.filter((id) => this.pending.has(id));
    if (late.length > 0) {
      this.options.log?.(
        "WARNING",
        `Simulation: ${late.length} ClientApp(s) did not reply within ${options.timeout} s; cancelled`,
      );
      for (const id of late) {
        const p = this.pending.get(id)!;
        this.pending.delete(id);
        if (p.taskId !== undefined) this.pool.cancel(p.taskId);
      }
    }
    return this.pullMessages(ids);
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await this.pool.close();
    for (const w of [...this.waiters]) w.resolve();
  }

  private schedule(message: Message, id: string, batch: Batch): void {
    const nodeId = message.metadata.dstNodeId;
    const pending: Pending = { instruction: message, taskId: undefined, batch };
    this.pending.set(id, pending);
    const wire = PbMessage.encode(messageToProto(message)).finish();
    const previous = this.nodeQueue.get(nodeId) ?? Promise.resolve();
    const done = previous.then(async () => {
      if (!this.pending.has(id)) return;
      const md = message.metadata;
      const ttlLeftMs = (md.ttl - (Date.now() / 1000 - md.createdAt)) * 1000;
      const { id: taskId, outcome } = this.pool.run(
        {
          nodeId,
          partitionId: this.partitionOf.get(nodeId)!,
          state: this.states.get(nodeId),
          message: wire,
        },
        Math.min(ttlLeftMs, this.clientTimeoutMs),
      );
      pending.taskId = taskId;
      this.settle(id, nodeId, await outcome);
    });
    this.nodeQueue.set(nodeId, done);
    void done.finally(() => {
      if (this.nodeQueue.get(nodeId) === done) this.nodeQueue.delete(nodeId);
    });
  }

  private settle(id: string, nodeId: bigint, outcome: PoolOutcome): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    let reply: Message;
    if (outcome.ok) {
      this.states.set(nodeId, outcome.state);
      reply = messageFromProto(PbMessage.decode(outcome.reply));
    } else {
      const crashed = "ended" in outcome && outcome.ended === "crashed";
      const code = crashed ? ErrorCode.CLIENT_APP_CRASHED : ErrorCode.CLIENT_APP_RAISED_EXCEPTION;
      this.options.log?.(
        "ERROR",
        `Simulation: ClientApp of node ${nodeId} (partition-id ${this.partitionOf.get(nodeId)}) failed: ${outcome.reason}`,
      );
      reply = new Message(new MessageError(code, outcome.reason), { replyTo: p.instruction });
      reply.metadata.messageId = objectIdOfInflatable(reply);
      p.batch.failed++;
    }
    p.batch.done++;
    this.report(p.batch);
    this.pending.delete(id);
    this.replies.set(id, reply);
    for (const w of [...this.waiters]) if (this.allAnswered(w.ids)) w.resolve();
  }

  private report(b: Batch): void {
    if (b.done < b.nextReport && b.done < b.total) return;
    while (b.nextReport <= b.done) b.nextReport += Math.max(1, Math.ceil(b.total / 4));
    const seconds = ((performance.now() - b.startedAt) / 1000).toFixed(2);
    const round = b.round === "" ? "" : ` round ${b.round}:`;
    this.options.log?.(
      "INFO",
      `Simulation:${round} ${b.done}/${b.total} ClientApps done (${b.failed} failed) in ${seconds} s`,
    );
  }

  private allAnswered(ids: readonly string[]): boolean {
    return ids.every((id) => !this.pending.has(id));
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
}

/**
 * The worker thread of {@link PostgresBridge} (`postgres-bridge.ts`): it owns the node-postgres
 * (`pg`) connections and answers the main thread's synchronous calls.
 *
 * - The **query connection** runs the main thread's statements in the order they arrive, one
 *   at a time (the main thread blocks on each answer, so there is at most one call in flight,
 *   plus fire-and-forget `notify` calls that queue behind it).
 * - The **listen connection** `LISTEN`s on the state channel and forwards every notification
 *   to the main thread's event port (asynchronously: it is delivered by the main event loop).
 *
 * Answers are posted on the call port, then the shared flag is set and `Atomics.notify`
 * wakes the main thread, which takes the answer with `receiveMessageOnPort`.
 *
 * Values: int2/int4/int8 are read as `bigint` and integral `numeric` (sums of bigints) too, like
 * better-sqlite3 with safe integers; `bytea` as bytes (their `ArrayBuffer` is transferred when
 * the bytes own it whole, so big objects are not copied again).
 *
 * node-postgres is used as is (a well-kept client); only the thread plumbing is ours.
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import pg from "pg";

/** What the main thread passes as `workerData`. */
export interface PostgresWorkerData {
  /** 4-byte flag: the worker stores 1 and notifies after each answer. */
  readonly flag: SharedArrayBuffer;
  /** Port for calls and their answers. */
  readonly callPort: MessagePort;
  /** Port on which notifications are forwarded. */
  readonly eventPort: MessagePort;
}

/** A call from the main thread. */
export type PostgresRequest =
  | {
      readonly id: number;
      readonly op: "connect";
      readonly config: pg.ClientConfig;
      readonly channel: string;
    }
  | {
      readonly id: number;
      readonly op: "query";
      readonly sql: string;
      readonly params: readonly unknown[];
    }
  | { readonly id: number; readonly op: "exec"; readonly sql: string }
  | {
      readonly id: number;
      readonly op: "notify";
      readonly channel: string;
      readonly payload: string;
    }
  | { readonly id: number; readonly op: "close" };

/** An answer (none for `notify`). */
export type PostgresResponse =
  | {
      readonly id: number;
      readonly ok: true;
      readonly rows: Record<string, unknown>[];
      readonly rowCount: number;
    }
  | {
      readonly id: number;
      readonly ok: false;
      readonly message: string;
      readonly code: string | undefined;
    };

const INT_OIDS = [20, 21, 23];
const NUMERIC_OID = 1700;

function parseInteger(text: string): bigint {
  return BigInt(text);
}

function parseNumeric(text: string): bigint | number {
  return /^-?\d+$/.test(text) ? BigInt(text) : Number(text);
}

const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (INT_OIDS.includes(oid)) return parseInteger;
    if (oid === NUMERIC_OID) return parseNumeric;
    return pg.types.getTypeParser(oid, format ?? "text");
  },
} as pg.CustomTypesConfig;

/** Bytes bound as parameters arrive as `Uint8Array`s (structured clone); pg wants Buffers. */
function toPgValue(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

/** Rows as plain values, and the ArrayBuffers that can be transferred without a copy. */
function prepareRows(rows: Record<string, unknown>[]): {
  rows: Record<string, unknown>[];
  transfer: ArrayBuffer[];
} {
  const transfer: ArrayBuffer[] = [];
  const seen = new Set<ArrayBuffer>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      if (!(v instanceof Uint8Array)) continue;
      const whole = v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
      if (whole && v.buffer instanceof ArrayBuffer && !seen.has(v.buffer) && v.byteLength > 4096) {
        seen.add(v.buffer);
        transfer.push(v.buffer);
      } else {
        // A slice of a pooled buffer: copy it so the clone does not carry the whole pool.
        row[k] = new Uint8Array(v);
      }
    }
  }
  return { rows, transfer };
}

function start(data: PostgresWorkerData): void {
  const flag = new Int32Array(data.flag);
  const { callPort, eventPort } = data;
  let client: pg.Client | undefined;
  let listener: pg.Client | undefined;
  let broken: string | undefined;
  let queue: Promise<void> = Promise.resolve();

  const answer = (response: PostgresResponse, transfer: ArrayBuffer[] = []) => {
    callPort.postMessage(response, transfer);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  const fail = (id: number, e: unknown) => {
    const err = e as { message?: unknown; code?: unknown };
    answer({
      id,
      ok: false,
      message: typeof err?.message === "string" ? err.message : String(e),
      code: typeof err?.code === "string" ? err.code : undefined,
    });
  };
  const onLost = (e: Error) => {
    broken = `the connection to PostgreSQL was lost (${e.message})`;
  };

  async function connect(config: pg.ClientConfig, channel: string): Promise<void> {
    client = new pg.Client({ ...config, types });
    client.on("error", onLost);
    await client.connect();
    listener = new pg.Client({ ...config, types });
    listener.on("error", onLost);
    await listener.connect();
    listener.on("notification", (n) => {
      if (n.channel === channel && n.payload !== undefined) eventPort.postMessage(n.payload);
    });
    await listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  }

  async function handle(req: PostgresRequest): Promise<void> {
    if (req.op === "connect") {
      try {
        await connect(req.config, req.channel);
        answer({ id: req.id, ok: true, rows: [], rowCount: 0 });
      } catch (e) {
        await Promise.allSettled([client?.end(), listener?.end()]);
        client = undefined;
        listener = undefined;
        fail(req.id, e);
      }
      return;
    }
    if (req.op === "close") {
      await Promise.allSettled([client?.end(), listener?.end()]);
      client = undefined;
      listener = undefined;
      answer({ id: req.id, ok: true, rows: [], rowCount: 0 });
      eventPort.close();
      callPort.close();
      return;
    }
    if (req.op === "notify") {
      // Fire and forget: a lost notification only delays a long-poll until its bound.
      if (client && broken === undefined) {
        await client.query("SELECT pg_notify($1, $2)", [req.channel, req.payload]).catch(() => {});
      }
      return;
    }
    if (!client || broken !== undefined) {
      fail(req.id, new Error(broken ?? "not connected to PostgreSQL"));
      return;
    }
    try {
      if (req.op === "exec") {
        await client.query(req.sql);
        answer({ id: req.id, ok: true, rows: [], rowCount: 0 });
      } else {
        const result = await client.query(req.sql, req.params.map(toPgValue) as unknown[]);
        const { rows, transfer } = prepareRows(result.rows as Record<string, unknown>[]);
        answer({ id: req.id, ok: true, rows, rowCount: result.rowCount ?? 0 }, transfer);
      }
    } catch (e) {
      fail(req.id, e);
    }
  }

  callPort.on("message", (req: PostgresRequest) => {
    queue = queue.then(() => handle(req)).catch((e) => fail(req.id, e));
  });
}

if (parentPort !== null && workerData !== undefined) start(workerData as PostgresWorkerData);

/**
 * A synchronous PostgreSQL client for the synchronous `LinkState` / `ObjectStore`
 * interfaces (the synckit technique, written out because it is ~100 lines and we need two
 * ports): a worker thread (`postgres-worker.ts`) owns the node-postgres connections; a call
 * posts its request, blocks the main thread with `Atomics.wait` on a shared flag until the
 * worker has answered, then takes the answer with `receiveMessageOnPort`.
 *
 * Cost: one thread hop each way plus the PostgreSQL round trip per statement (measured by
 * `bench/postgres-state-latency.ts`, see the transport README). The event loop is blocked meanwhile,
 * as it is during a better-sqlite3 call.
 *
 * Notifications: the worker `LISTEN`s on {@link PostgresBridge.channel}; payloads arrive on the
 * event port through the main event loop and are handed to {@link PostgresBridge.onNotification}.
 * {@link PostgresBridge.notify} is fire-and-forget (queued behind the calls already posted, so
 * it is sent after the commit that precedes it).
 */
import { MessageChannel, receiveMessageOnPort, type Worker } from "node:worker_threads";
import type pg from "pg";
import { startModuleWorker } from "../../app-runtime/module-worker.js";
import type { PostgresRequest, PostgresResponse, PostgresWorkerData } from "./postgres-worker.js";

/** How long a call may wait for PostgreSQL before it fails (ms). */
export const POSTGRES_CALL_TIMEOUT_MS = 60_000;

/** A statement or the connection failed; `code` is PostgreSQL's SQLSTATE or Node's errno code. */
export class PostgresCallError extends Error {
  /** SQLSTATE (e.g. `23505`) or a Node error code (`ECONNREFUSED`), when known. */
  readonly code: string | undefined;

  /** @param message - PostgreSQL's message. @param code - SQLSTATE or errno code. */
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = "PostgresCallError";
    this.code = code;
  }
}

/** Result of {@link PostgresBridge.query}. */
export interface PostgresResult {
  /** Rows as column → value (`bigint` for integers, `Buffer` for `bytea`). */
  readonly rows: Record<string, unknown>[];
  /** Rows affected or returned. */
  readonly rowCount: number;
}

function toBuffers(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) {
        row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
    }
  }
  return rows;
}

/** The synchronous client. One per opened PostgreSQL state; shared by its two stores. */
export class PostgresBridge {
  /** The LISTEN/NOTIFY channel. */
  readonly channel: string;
  /** Called with each notification payload on the channel (from any session, ours included). */
  onNotification: ((payload: string) => void) | undefined;

  private readonly worker: Worker;
  private readonly flag: Int32Array;
  private readonly callPort: MessageChannel["port1"];
  private readonly eventPort: MessageChannel["port1"];
  private nextId = 1;
  private closed = false;

  /**
   * Starts the worker and connects (blocking).
   * @param config - node-postgres client configuration (connection string or fields).
   * @param channel - the notification channel to LISTEN on.
   * @throws PostgresCallError when the server cannot be reached or refuses the login.
   */
  constructor(config: pg.ClientConfig, channel: string) {
    this.channel = channel;
    const flag = new SharedArrayBuffer(4);
    this.flag = new Int32Array(flag);
    const calls = new MessageChannel();
    const events = new MessageChannel();
    this.callPort = calls.port1;
    this.eventPort = events.port1;
    const data: PostgresWorkerData = { flag, callPort: calls.port2, eventPort: events.port2 };
    this.worker = startModuleWorker(import.meta.url, "postgres-worker", {
      workerData: data,
      transferList: [calls.port2, events.port2],
    });
    this.worker.unref();
    this.eventPort.on("message", (payload: string) => this.onNotification?.(payload));
    this.eventPort.unref();
    try {
      this.call({ id: 0, op: "connect", config, channel });
    } catch (e) {
      this.shutdown();
      throw e;
    }
  }

  /** False once closed. */
  get open(): boolean {
    return !this.closed;
  }

  /** Runs one parameterized statement (`$1`, `$2`, …). @throws PostgresCallError. */
  query(sql: string, params: readonly unknown[] = []): PostgresResult {
    return this.call({ id: 0, op: "query", sql, params });
  }

  /** Runs one or more statements without parameters (simple query protocol). */
  exec(sql: string): void {
    this.call({ id: 0, op: "exec", sql });
  }

  /** Sends `pg_notify(channel, payload)` after the calls already made; does not wait. */
  notify(payload: string): void {
    if (this.closed) return;
    const request: PostgresRequest = {
      id: this.nextId++,
      op: "notify",
      channel: this.channel,
      payload,
    };
    this.callPort.postMessage(request);
  }

  /** Closes the connections and ends the worker. Idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      this.call({ id: 0, op: "close" });
    } catch {
      // the worker or the connection is gone already
    }
    this.shutdown();
  }

  private shutdown(): void {
    this.closed = true;
    this.eventPort.close();
    this.callPort.close();
    void this.worker.terminate();
  }

  private call(request: PostgresRequest): PostgresResult {
    if (this.closed) throw new PostgresCallError("the PostgreSQL connection is closed", undefined);
    const id = this.nextId++;
    Atomics.store(this.flag, 0, 0);
    this.callPort.postMessage({ ...request, id });
    const deadline = Date.now() + POSTGRES_CALL_TIMEOUT_MS;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new PostgresCallError(
          `PostgreSQL did not answer within ${POSTGRES_CALL_TIMEOUT_MS / 1000} s`,
          "ETIMEDOUT",
        );
      }
      Atomics.wait(this.flag, 0, 0, left);
      const received = receiveMessageOnPort(this.callPort);
      if (received === undefined) continue;
      Atomics.store(this.flag, 0, 0);
      const response = received.message as PostgresResponse;
      if (response.id !== id) continue; // cannot happen: one call in flight
      if (!response.ok) throw new PostgresCallError(response.message, response.code);
      return { rows: toBuffers(response.rows), rowCount: response.rowCount };
    }
  }
}

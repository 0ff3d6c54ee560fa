/**
 * Fetching a pulled message's objects with PullObject, as Python Flower's `pull_objects` does:
 * an object not yet pushed by the ServerApp (`object_available = false`) is retried with
 * backoff — 1 s doubling to 10 s, ±20 % jitter, at most 500 tries per object and 7200 s in all;
 * an object the SuperLink never preregistered (`object_found = false`) is a permanent failure.
 * Every object is verified (SHA-256 = id, well-formed head) as it arrives.
 */
import { type ObjectTree, objectTreeIds, verifyObject } from "@flwr-ts/core";
import { abortableSleep } from "./abortable-sleep.js";
import { Backoff } from "./backoff.js";
import type { PulledObject } from "./fleet-connection.js";
import { ShutdownError } from "./rpc-retry.js";

/** Limits for pulling a message's objects. */
export interface PullLimits {
  /** First retry delay, ms. */
  readonly initialDelayMs: number;
  /** Retry delay cap, ms. */
  readonly maxDelayMs: number;
  /** Tries per object. */
  readonly maxTriesPerObject: number;
  /** Total time, ms. */
  readonly maxTimeMs: number;
  /** Objects pulled at once. */
  readonly concurrency: number;
}

/**
 * Flower's retry limits for pulling objects. Concurrency is flwr-ts's: Flower pulls 2 objects at
 * a time; a message's objects are small and few, and each pull is a full round trip (plus a
 * signature on Fleet), so pulling all of them at once (up to 16) makes a message's fetch cost one
 * round trip instead of ⌈n/2⌉.
 */
export const PULL_LIMITS: PullLimits = {
  /** First retry delay, ms. */
  initialDelayMs: 1000,
  /** Retry delay cap, ms. */
  maxDelayMs: 10_000,
  /** Tries per object. */
  maxTriesPerObject: 500,
  /** Total time, ms. */
  maxTimeMs: 7_200_000,
  /** Objects pulled at once. */
  concurrency: 16,
};

/** An object could not be pulled. */
export class ObjectPullError extends Error {
  /** The object id. */
  readonly objectId: string;

  constructor(objectId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ObjectPullError";
    this.objectId = objectId;
  }
}

/** Options of {@link pullObjects}. */
export interface PullObjectsOptions {
  /** Aborts the pulls (shutdown). */
  readonly signal?: AbortSignal | undefined;
  /** Override Flower's limits (tests). */
  readonly limits?: Partial<PullLimits>;
}

/**
 * Pulls every object of `tree`.
 * @param pull - one PullObject call (any gRPC error it throws propagates; wrap it for retries).
 * @returns object id → verified bytes.
 * @throws ObjectPullError for a missing, never-available or corrupt object; ShutdownError on abort.
 */
export async function pullObjects(
  tree: ObjectTree,
  pull: (objectId: string) => Promise<PulledObject>,
  options: PullObjectsOptions = {},
): Promise<Map<string, Uint8Array>> {
  const limits = { ...PULL_LIMITS, ...options.limits };
  const signal = options.signal;
  const started = performance.now();
  const queue = objectTreeIds(tree);
  const results = new Map<string, Uint8Array>();
  const failure = new AbortController();
  let firstError: unknown;

  const pullOne = async (objectId: string): Promise<void> => {
    const backoff = new Backoff({
      initialDelayMs: limits.initialDelayMs,
      maxDelayMs: limits.maxDelayMs,
      jitter: { ratio: 0.2 },
      maxRetries: limits.maxTriesPerObject - 1,
    });
    for (;;) {
      if (signal?.aborted) throw new ShutdownError();
      if (failure.signal.aborted) return;
      const res = await pull(objectId);
      if (!res.found) {
        throw new ObjectPullError(
          objectId,
          `object ${objectId} is unknown to the SuperLink (never preregistered)`,
        );
      }
      if (res.available) {
        try {
          verifyObject(objectId, res.content);
        } catch (err) {
          throw new ObjectPullError(
            objectId,
            `object ${objectId} is corrupt: ${(err as Error).message}`,
            { cause: err },
          );
        }
        results.set(objectId, res.content);
        return;
      }
      const delay = backoff.next();
      if (delay === undefined || performance.now() - started >= limits.maxTimeMs) {
        throw new ObjectPullError(
          objectId,
          `object ${objectId} was not available after ${backoff.attempts + 1} tries`,
        );
      }
      const either = AbortSignal.any([failure.signal, ...(signal ? [signal] : [])]);
      await abortableSleep(delay, either);
    }
  };

  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        await pullOne(id);
      } catch (err) {
        firstError ??= err;
        failure.abort();
        return;
      }
      if (failure.signal.aborted) return;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limits.concurrency) }, worker));
  if (firstError !== undefined) throw firstError;
  if (signal?.aborted) throw new ShutdownError();
  return results;
}

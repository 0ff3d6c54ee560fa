/**
 * The flwr-ts long-poll extension of the AppIo APIs: a client sending the metadata entry
 * {@link WAIT_HEADER} (milliseconds) has ListAppsToLaunch / PullMessages held open until there is
 * something to return or the wait passes, then gets the usual (possibly empty) response. Python
 * clients do not send it and are answered at once, exactly as Flower does.
 */
import type { CallContext } from "../grpc/server-handlers.js";

/** Metadata entry asking a server to hold a call open (ms). Same key as the Fleet extension. */
export const WAIT_HEADER = "flwr-ts-pull-wait-ms";

/** Longest wait granted (ms). */
export const MAX_WAIT_MS = 30_000;

/** The wait a caller asked for, capped; 0 when absent or malformed. */
export function requestedWait(ctx: CallContext): number {
  const raw = ctx.metadata.get(WAIT_HEADER)[0];
  const text = typeof raw === "string" ? raw : raw?.toString("utf8");
  if (text === undefined || !/^\d{1,9}$/.test(text)) return 0;
  return Math.min(Number(text), MAX_WAIT_MS);
}

/**
 * The flwr-ts long-poll extension, server side, for every API that has it (Fleet PullMessages,
 * ServerAppIo PullMessages, ListAppsToLaunch): a client sending {@link PULL_WAIT_HEADER}
 * (milliseconds) has its call held open until there is something to return or the wait passes,
 * then gets the usual (possibly empty) response. Python clients do not send it and are answered
 * at once, exactly as Flower does.
 */
import type { CallContext } from "../wire/call-context.js";
import { MAX_PULL_WAIT_MS, PULL_WAIT_HEADER } from "./flwr-ts-headers.js";

/** The wait a caller asked for, capped at {@link MAX_PULL_WAIT_MS}; 0 when absent or malformed. */
export function requestedWait(ctx: CallContext): number {
  const raw = ctx.metadata.get(PULL_WAIT_HEADER)[0];
  const text = typeof raw === "string" ? raw : raw?.toString("utf8");
  if (text === undefined || !/^\d{1,9}$/.test(text)) return 0;
  return Math.min(Number(text), MAX_PULL_WAIT_MS);
}

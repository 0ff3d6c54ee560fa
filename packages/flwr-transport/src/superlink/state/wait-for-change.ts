/**
 * Waiting for a LinkState change without polling: resolves when an event matching `predicate`
 * is emitted, when `timeoutMs` passes, or when `signal` aborts — whichever comes first.
 * Long-polling handlers check the state, then wait, then check again.
 */
import type { LinkState, LinkStateEvent } from "./link-state.js";

/** Options of {@link waitForChange}. */
export interface WaitOptions {
  /** Upper bound of the wait in milliseconds. */
  timeoutMs: number;
  /** Ends the wait early (e.g. the gRPC call was cancelled). */
  signal?: AbortSignal | undefined;
}

/**
 * Waits for the next event accepted by `predicate`.
 * @returns `"event"`, `"timeout"` or `"aborted"`.
 */
export function waitForChange(
  state: Pick<LinkState, "subscribe">,
  predicate: (event: LinkStateEvent) => boolean,
  options: WaitOptions,
): Promise<"event" | "timeout" | "aborted"> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted) return Promise.resolve("aborted");
  return new Promise((resolve) => {
    let unsubscribe = () => {};
    const finish = (outcome: "event" | "timeout" | "aborted") => {
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish("aborted");
    const timer = setTimeout(() => finish("timeout"), Math.max(0, timeoutMs));
    unsubscribe = state.subscribe((event) => {
      if (predicate(event)) finish("event");
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

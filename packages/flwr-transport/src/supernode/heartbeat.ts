/**
 * The SuperNode's heartbeat, with Python Flower's numbers (`flwr.supercore.heartbeat`,
 * `flwr.common.constant`):
 *
 * - `heartbeat_interval` = 30 s is sent with ActivateNode and every SendNodeHeartbeat; the
 *   SuperLink keeps the node online until now + 2 × interval.
 * - The next heartbeat follows after (30 − 5) × U(0.7, 0.9) s, i.e. 17.5–22.5 s.
 * - Each call has a 5 s deadline. UNAVAILABLE and DEADLINE_EXCEEDED are retried with
 *   exponential backoff (1 s doubling, capped at 20 s, full jitter, no limit).
 * - `success = false` or UNAUTHENTICATED means the SuperLink no longer knows this node: the
 *   sender stops and reports it (the SuperNode then re-activates or exits).
 *
 * Beyond Flower: {@link HeartbeatSender.beatNow} sends one at once (after a reconnection, so a
 * SuperLink that marked the node offline sees it online again without waiting ~20 s).
 */
import { Backoff } from "./backoff.js";
import { callWithRetry, classifyRpcError, ShutdownError } from "./rpc-retry.js";

/** Heartbeat interval the SuperNode announces, seconds (Flower's `HEARTBEAT_DEFAULT_INTERVAL`). */
export const HEARTBEAT_INTERVAL_SECONDS = 30;
/** Deadline of one heartbeat call, seconds (Flower's `HEARTBEAT_CALL_TIMEOUT`). */
export const HEARTBEAT_CALL_TIMEOUT_SECONDS = 5;
/** Cap of the heartbeat retry backoff, ms. */
export const HEARTBEAT_MAX_RETRY_DELAY_MS = 20_000;

/**
 * Delay before the next heartbeat, ms: (interval − timeout) × (0.8 + U(−0.1, 0.1)).
 * @param random - uniform random number in [0, 1).
 */
export function nextHeartbeatDelayMs(random: () => number = Math.random): number {
  const factor = 0.8 + (random() * 0.2 - 0.1);
  return (HEARTBEAT_INTERVAL_SECONDS - HEARTBEAT_CALL_TIMEOUT_SECONDS) * factor * 1000;
}

/** Why the heartbeat stopped on its own. */
export interface HeartbeatLost {
  /** `rejected`: success=false; `unauthenticated`: UNAUTHENTICATED; `error`: another failure. */
  readonly reason: "rejected" | "unauthenticated" | "error";
  /** The error, when there was one. */
  readonly error?: unknown;
}

/** Options of {@link HeartbeatSender}. */
export interface HeartbeatSenderOptions {
  /** Sends one heartbeat (with the given deadline); resolves to the SuperLink's `success`. */
  readonly send: (timeoutMs: number, signal: AbortSignal) => Promise<boolean>;
  /** Called once when the SuperLink stops accepting heartbeats from this node. */
  readonly onLost: (lost: HeartbeatLost) => void;
  /** Called before a retry wait. */
  readonly onRetry?: (error: unknown, delayMs: number) => void;
  /** Called when a heartbeat got through after failures. */
  readonly onRecovered?: (tries: number, elapsedMs: number) => void;
  /** Random source (tests). */
  readonly random?: () => number;
}

/** Sends heartbeats in the background until stopped or lost. */
export class HeartbeatSender {
  private readonly controller = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: HeartbeatSenderOptions) {}

  /** True between {@link start} and {@link stop} (or a loss). */
  get running(): boolean {
    return this.loop !== undefined && !this.controller.signal.aborted;
  }

  /** Starts the loop; the first heartbeat follows after one interval (ActivateNode counts as one). */
  start(): void {
    if (this.loop) throw new Error("heartbeat sender already started");
    this.loop = this.run();
  }

  /** Sends the next heartbeat now instead of waiting for the timer. */
  beatNow(): void {
    this.wake?.();
  }

  /** Stops the loop and waits for it to end (an in-flight call is cancelled). */
  async stop(): Promise<void> {
    this.controller.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    const random = this.options.random ?? Math.random;
    while (!signal.aborted) {
      await this.sleepOrWake(nextHeartbeatDelayMs(random), signal);
      if (signal.aborted) return;
      try {
        const ok = await callWithRetry(
          (s) => this.options.send(HEARTBEAT_CALL_TIMEOUT_SECONDS * 1000, s ?? signal),
          {
            backoff: new Backoff({ maxDelayMs: HEARTBEAT_MAX_RETRY_DELAY_MS, random }),
            retryOn: ["unavailable", "deadline"],
            signal,
            onRetry: this.options.onRetry,
            onRecovered: this.options.onRecovered,
          },
        );
        if (!ok) return this.lose({ reason: "rejected" });
      } catch (error) {
        if (error instanceof ShutdownError || signal.aborted) return;
        const kind = classifyRpcError(error);
        return this.lose({
          reason: kind === "unauthenticated" ? "unauthenticated" : "error",
          error,
        });
      }
    }
  }

  private lose(lost: HeartbeatLost): void {
    this.controller.abort();
    this.options.onLost(lost);
  }

  private sleepOrWake(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }
}

/**
 * App heartbeats from a worker thread (`heartbeat-worker.ts`): Flower's `HeartbeatSender` runs in
 * a thread of its own, so a ClientApp or ServerApp whose code blocks its event loop (synchronous
 * training, a long evaluation) keeps its token alive. One thread per app process; a warm
 * ClientApp process points it at each new token.
 */
import type { Worker } from "node:worker_threads";
import { type AppHeartbeat, startAppHeartbeat } from "./app-heartbeat.js";
import type { HeartbeatCommand, HeartbeatWorkerData } from "./heartbeat-worker.js";
import { startModuleWorker } from "./module-worker.js";

/** Options of {@link AppHeartbeatThread}. */
export interface AppHeartbeatThreadOptions extends HeartbeatWorkerData {
  /** The server answered `success=false` for the current token (expired or deleted). */
  readonly onLost?: (token: string) => void;
  /** A heartbeat call failed. */
  readonly onError?: (message: string) => void;
  /**
   * Sends one heartbeat from the main thread: used instead of the thread if it fails to start
   * or dies, so the token is still kept alive (while the event loop is free).
   */
  readonly fallback?: (token: string) => Promise<boolean>;
}

/** The heartbeat thread of an app process. */
export class AppHeartbeatThread {
  private readonly worker: Worker;
  private closed = false;
  private current: string | undefined;
  private failed = false;
  private fallbackBeat: AppHeartbeat | undefined;
  /** Settles once the thread listens (commands sent before are queued, not lost). */
  readonly ready: Promise<void>;

  /** Starts the thread (idle until {@link beat}). */
  constructor(options: AppHeartbeatThreadOptions) {
    const { onLost, onError, fallback, ...data } = options;
    this.startFallback = (token, immediate) =>
      fallback
        ? startAppHeartbeat(() => fallback(token), {
            intervalMs: data.intervalMs,
            immediate,
            ...(onLost ? { onLost: () => onLost(token) } : {}),
            ...(onError ? { onError: (e) => onError(String(e)) } : {}),
          })
        : undefined;
    this.worker = startModuleWorker(import.meta.url, "heartbeat-worker", {
      workerData: data satisfies HeartbeatWorkerData,
    });
    this.worker.unref();
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => {
      markReady = resolve;
    });
    this.worker.on("message", (m: { ready?: boolean; lost?: string; error?: string }) => {
      if (m.ready) markReady();
      if (m.lost !== undefined) onLost?.(m.lost);
      if (m.error !== undefined) onError?.(m.error);
    });
    const fail = (why: string) => {
      markReady();
      if (this.failed || this.closed) return;
      this.failed = true;
      onError?.(`heartbeat thread ${why}; sending heartbeats from the main thread`);
      if (this.current !== undefined) this.fallbackBeat = this.startFallback(this.current, true);
    };
    this.worker.on("error", (error) => fail(`failed: ${error.message}`));
    this.worker.on("exit", (code) => fail(`exited with code ${code}`));
  }

  /**
   * Sends heartbeats for `token` every interval (the first at once when `immediate`), until
   * {@link stop}, another `beat` or {@link close}.
   * @returns a handle whose `stop()` stops this token's heartbeats.
   */
  beat(token: string, immediate = true): AppHeartbeat {
    this.current = token;
    this.fallbackBeat?.stop();
    this.fallbackBeat = this.failed ? this.startFallback(token, immediate) : undefined;
    this.post({ token, immediate });
    return {
      stop: () => {
        if (this.current === token) this.stop();
      },
    };
  }

  /** Stops sending heartbeats. */
  stop(): void {
    this.current = undefined;
    this.fallbackBeat?.stop();
    this.fallbackBeat = undefined;
    this.post({ token: undefined });
  }

  /** Ends the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    this.post({ close: true });
    this.closed = true;
    await this.worker.terminate();
  }

  private readonly startFallback: (token: string, immediate: boolean) => AppHeartbeat | undefined;

  private post(command: HeartbeatCommand): void {
    if (!this.closed && !this.failed) this.worker.postMessage(command);
  }
}

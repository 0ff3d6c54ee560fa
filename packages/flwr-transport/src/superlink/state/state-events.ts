/**
 * Fan-out of {@link LinkStateEvent}s for LinkState implementations: listeners are called
 * synchronously after a change is committed; a throwing listener is reported and does not stop
 * the others (nor the state call that emitted).
 */
import type { LinkStateEvent, LinkStateListener } from "./link-state.js";

/** Holds the listeners of one LinkState and emits events to them. */
export class LinkStateNotifier {
  private readonly listeners = new Set<LinkStateListener>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: LinkStateListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Number of listeners (for leak tests). */
  get size(): number {
    return this.listeners.size;
  }

  /** Calls every listener with `event`. */
  emit(event: LinkStateEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`ERROR: LinkState listener failed on ${event.type}: ${detail}\n`);
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.listeners.clear();
  }
}

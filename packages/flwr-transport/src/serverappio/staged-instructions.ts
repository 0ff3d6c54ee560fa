/**
 * Messages whose objects have not all arrived yet: instructions pushed by a ServerApp
 * (ServerAppIo) and replies pushed by SuperNodes (Fleet).
 *
 * Flower stores an instruction as soon as PushMessages receives it and the ServerApp pushes the
 * objects afterwards, so a SuperNode that pulls at once finds objects "not available" and backs
 * off for a second. The flwr-ts SuperLink validates and accepts the instruction at PushMessages
 * (the response is unchanged: its message id and the objects to push) but hands it to the
 * LinkState only once the last object of its tree is stored, so a SuperNode waiting on a long
 * poll receives a message it can fetch completely. Until then PullMessages treats it as still
 * waiting for its reply, exactly like a stored, undelivered instruction.
 *
 * Replies are staged the same way on the Fleet side: a SuperNode's reply reaches the LinkState
 * (and wakes the ServerApp's long poll) once its last object is stored, so the ServerApp pulls a
 * complete reply instead of retrying objects that are still on their way.
 */
import type { Message } from "@flwr-ts/core/proto";

interface Staged {
  readonly message: Message;
  readonly runId: bigint;
  readonly missing: Set<string>;
}

/** Instructions waiting for their objects, indexed by message id and by missing object id. */
export class StagedInstructions {
  private readonly byMessage = new Map<string, Staged>();
  private readonly byObject = new Map<string, Set<string>>();

  /** Number of staged instructions. */
  get size(): number {
    return this.byMessage.size;
  }

  /**
   * Stages `message` until every id in `missing` was stored.
   * @returns false when nothing is missing (the caller stores the message at once).
   */
  stage(message: Message, runId: bigint, missing: Iterable<string>): boolean {
    const id = message.metadata?.messageId ?? "";
    const set = new Set(missing);
    if (set.size === 0) return false;
    this.byMessage.set(id, { message, runId, missing: set });
    for (const objectId of set) {
      let waiters = this.byObject.get(objectId);
      if (!waiters) {
        waiters = new Set();
        this.byObject.set(objectId, waiters);
      }
      waiters.add(id);
    }
    return true;
  }

  /** True when `messageId` is staged. */
  has(messageId: string): boolean {
    return this.byMessage.has(messageId);
  }

  /**
   * Records that `objectId` is now stored.
   * @returns the instructions that became complete (removed from the stage).
   */
  objectStored(objectId: string): Message[] {
    const waiters = this.byObject.get(objectId);
    if (!waiters) return [];
    this.byObject.delete(objectId);
    const complete: Message[] = [];
    for (const messageId of waiters) {
      const staged = this.byMessage.get(messageId);
      if (!staged) continue;
      staged.missing.delete(objectId);
      if (staged.missing.size === 0) {
        this.byMessage.delete(messageId);
        complete.push(staged.message);
      }
    }
    return complete;
  }

  /** The runs that have staged messages. */
  runIds(): bigint[] {
    return [...new Set([...this.byMessage.values()].map((s) => s.runId))];
  }

  /** Forgets the staged instructions of a run (stopped or finished). */
  dropRun(runId: bigint): void {
    for (const [messageId, staged] of this.byMessage) {
      if (staged.runId !== runId) continue;
      this.byMessage.delete(messageId);
      for (const objectId of staged.missing) {
        const waiters = this.byObject.get(objectId);
        waiters?.delete(messageId);
        if (waiters?.size === 0) this.byObject.delete(objectId);
      }
    }
  }
}

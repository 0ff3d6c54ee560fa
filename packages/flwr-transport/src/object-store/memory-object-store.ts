/**
 * In-memory {@link ObjectStore} (Flower's `InMemoryObjectStore`, `--database :flwr-in-memory:`).
 * Stored bytes are kept by reference, not copied.
 */
import {
  buildObjectTree,
  checkChildrenMatch,
  flattenTree,
  verifyPushedObject,
} from "./object-checks.js";
import {
  type ObjectLookup,
  type ObjectStore,
  ObjectStoreError,
  type ObjectStoreStats,
  type ObjectTree,
} from "./object-store.js";

interface Entry {
  content: Uint8Array | undefined;
  readonly childIds: readonly string[];
  refCount: number;
  readonly runs: Set<bigint>;
}

const NOT_FOUND: ObjectLookup = { found: false, available: false };
const NOT_AVAILABLE: ObjectLookup = { found: true, available: false };

/** In-memory object store. */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, Entry>();
  private readonly runObjects = new Map<bigint, Set<string>>();
  private availableCount = 0;
  private byteCount = 0;
  private closed = false;

  /** {@inheritDoc ObjectStore.preregister} */
  preregister(runId: bigint, tree: ObjectTree): string[] {
    this.check();
    const entries = flattenTree(tree);
    let runSet = this.runObjects.get(runId);
    if (!runSet) {
      runSet = new Set();
      this.runObjects.set(runId, runSet);
    }
    const missing = new Set<string>();
    for (const { objectId, childIds } of entries) {
      let entry = this.objects.get(objectId);
      if (!entry) {
        entry = { content: undefined, childIds, refCount: 0, runs: new Set() };
        this.objects.set(objectId, entry);
        for (const childId of childIds) {
          const child = this.objects.get(childId);
          if (child) child.refCount++;
        }
      }
      if (entry.content === undefined) missing.add(objectId);
      entry.runs.add(runId);
      runSet.add(objectId);
    }
    return [...missing];
  }

  /** {@inheritDoc ObjectStore.put} */
  put(objectId: string, content: Uint8Array): boolean {
    this.check();
    const verified = verifyPushedObject(objectId, content);
    if (!verified.ok) return false;
    const entry = this.objects.get(objectId);
    if (!entry) return false;
    if (entry.content !== undefined) return true;
    checkChildrenMatch(objectId, verified.head.childIds, entry.childIds);
    entry.content = content;
    this.availableCount++;
    this.byteCount += content.byteLength;
    return true;
  }

  /** {@inheritDoc ObjectStore.get} */
  get(objectId: string): ObjectLookup {
    this.check();
    const entry = this.objects.get(objectId);
    if (!entry) return NOT_FOUND;
    if (entry.content === undefined) return NOT_AVAILABLE;
    return { found: true, available: true, content: entry.content };
  }

  /** {@inheritDoc ObjectStore.has} */
  has(objectId: string): boolean {
    this.check();
    return this.objects.has(objectId);
  }

  /** {@inheritDoc ObjectStore.children} */
  children(objectId: string): string[] | undefined {
    this.check();
    const entry = this.objects.get(objectId);
    return entry ? [...entry.childIds] : undefined;
  }

  /** {@inheritDoc ObjectStore.getObjectTree} */
  getObjectTree(objectId: string): ObjectTree {
    this.check();
    return buildObjectTree(objectId, (id) => this.objects.get(id)?.childIds);
  }

  /** {@inheritDoc ObjectStore.contentLength} */
  contentLength(objectId: string): number | undefined {
    this.check();
    const entry = this.objects.get(objectId);
    if (!entry) return undefined;
    return entry.content?.byteLength ?? 0;
  }

  /** {@inheritDoc ObjectStore.deleteMessage} */
  deleteMessage(objectId: string): void {
    this.check();
    const stack = [objectId];
    while (stack.length > 0) {
      const id = stack.pop()!;
      const entry = this.objects.get(id);
      if (!entry || entry.refCount > 0) continue;
      this.objects.delete(id);
      if (entry.content !== undefined) {
        this.availableCount--;
        this.byteCount -= entry.content.byteLength;
      }
      for (const runId of entry.runs) this.runObjects.get(runId)?.delete(id);
      for (const childId of entry.childIds) {
        const child = this.objects.get(childId);
        if (!child) continue;
        child.refCount--;
        if (child.refCount <= 0) stack.push(childId);
      }
    }
  }

  /** {@inheritDoc ObjectStore.deleteRun} */
  deleteRun(runId: bigint): void {
    this.check();
    const ids = this.runObjects.get(runId);
    if (!ids) return;
    for (const id of [...ids]) {
      const entry = this.objects.get(id);
      if (!entry) continue;
      entry.runs.delete(runId);
      if (entry.refCount === 0) this.deleteMessage(id);
    }
    this.runObjects.delete(runId);
  }

  /** {@inheritDoc ObjectStore.clear} */
  clear(): void {
    this.check();
    this.objects.clear();
    this.runObjects.clear();
    this.availableCount = 0;
    this.byteCount = 0;
  }

  /** {@inheritDoc ObjectStore.stats} */
  stats(): ObjectStoreStats {
    this.check();
    return {
      objects: this.objects.size,
      availableObjects: this.availableCount,
      bytes: this.byteCount,
    };
  }

  /** {@inheritDoc ObjectStore.close} */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.objects.clear();
    this.runObjects.clear();
  }

  private check(): void {
    if (this.closed) throw new ObjectStoreError("the object store is closed");
  }
}

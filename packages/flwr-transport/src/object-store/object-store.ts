/**
 * The SuperLink's content-addressed object store (Flower's `ObjectStore`): the objects of the
 * messages in flight, by object ID, with their parent→child relations, reference counts and the
 * runs that registered them.
 *
 * Lifecycle of an object (protocol brief §6.3):
 * 1. {@link ObjectStore.preregister} a message's object tree: every unknown ID becomes an
 *    unavailable placeholder; each new parent increments its children's reference counts.
 * 2. {@link ObjectStore.put} the bytes of each ID returned by `preregister` (PushObject).
 * 3. {@link ObjectStore.get} them (PullObject).
 * 4. {@link ObjectStore.deleteMessage} the message root once it was received
 *    (ConfirmMessageReceived): it and every descendant whose reference count drops to 0 go away.
 * 5. {@link ObjectStore.deleteRun} when a run finishes.
 *
 * The interface is synchronous: both implementations (a `Map` and better-sqlite3) are, and every
 * call is atomic with respect to the others. Run IDs are uint64 as `bigint`.
 */
import type { ObjectTree } from "@flwr-ts/core";

export type { ObjectTree } from "@flwr-ts/core";

/** Result of {@link ObjectStore.get}. */
export type ObjectLookup =
  /** The ID was never preregistered (or was deleted): PullObject `object_found=false`. */
  | { readonly found: false; readonly available: false }
  /** Preregistered but not pushed yet: PullObject `object_found=true, object_available=false`. */
  | { readonly found: true; readonly available: false }
  /**
   * Stored. `content` is the store's own buffer or a fresh one; callers must not mutate it.
   */
  | { readonly found: true; readonly available: true; readonly content: Uint8Array };

/** Counts for monitoring and traffic accounting. */
export interface ObjectStoreStats {
  /** Number of objects (placeholders included). */
  readonly objects: number;
  /** Number of objects whose bytes are stored. */
  readonly availableObjects: number;
  /** Total size of the stored bytes. */
  readonly bytes: number;
}

/** Base class of object-store errors. */
export class ObjectStoreError extends Error {
  /** @param message - what is wrong and what to do. @param options - optional cause. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An object ID in a tree is not 64 hexadecimal digits (Python raises `ValueError` in
 * `preregister`). Servicers answer INVALID_ARGUMENT / FAILED_PRECONDITION.
 */
export class InvalidObjectIdError extends ObjectStoreError {
  /** The offending ID (truncated to 100 characters). */
  readonly objectId: string;

  /** @param objectId - the offending ID. */
  constructor(objectId: string) {
    const shown = objectId.slice(0, 100);
    super(
      `invalid object ID ${JSON.stringify(shown)}: an object ID is the lowercase hex SHA-256 of the object (64 hexadecimal digits)`,
    );
    this.objectId = shown;
  }
}

/**
 * The bytes pushed for an object hash to its ID but are not a valid object: no head/body
 * divider, a head without three parts, an invalid child ID, an unknown type, a wrong body
 * length, or children that differ from the preregistered tree. Python raises
 * `UnexpectedObjectContentError`, which the servicers map to FAILED_PRECONDITION.
 */
export class UnexpectedObjectContentError extends ObjectStoreError {
  /** The object concerned. */
  readonly objectId: string;

  /** @param objectId - object concerned. @param reason - what is wrong. @param cause - underlying error. */
  constructor(objectId: string, reason: string, cause?: unknown) {
    super(`Object with ID '${objectId}' has an unexpected format. ${reason}`, { cause });
    this.objectId = objectId;
  }
}

/**
 * The object requested is not in the store (Python's `NoObjectInStoreError`), or the store is
 * inconsistent (a child of a stored object is missing).
 */
export class NoObjectInStoreError extends ObjectStoreError {
  /** The object concerned. */
  readonly objectId: string;

  /** @param objectId - object concerned. @param message - explanation. */
  constructor(objectId: string, message?: string) {
    super(message ?? `Object with ID '${objectId}' was not pre-registered.`);
    this.objectId = objectId;
  }
}

/** The SuperLink's object store. See the module comment for the lifecycle. */
export interface ObjectStore {
  /**
   * Registers every ID of `tree` that is not known yet as an unavailable placeholder (children
   * first), increments each child's reference count once per newly registered parent, and
   * records that `runId` uses every ID of the tree.
   * @returns the IDs of the tree (in post-order, each once) that are not available yet: new
   *   placeholders and earlier placeholders never pushed. These are the IDs to push.
   * @throws InvalidObjectIdError when an ID is not 64 hex digits (nothing is registered then).
   */
  preregister(runId: bigint, tree: ObjectTree): string[];

  /**
   * Stores the bytes of a preregistered object (PushObject).
   * @returns `true` when the bytes are stored (or were already), `false` when the SHA-256 of
   *   `content` is not `objectId` or the ID was never preregistered (PushObject `stored=false`).
   * @throws UnexpectedObjectContentError when the bytes hash to the ID but the object head is
   *   malformed (FAILED_PRECONDITION).
   * The store may keep a reference to `content`: do not mutate it afterwards.
   */
  put(objectId: string, content: Uint8Array): boolean;

  /** Looks an object up (PullObject). */
  get(objectId: string): ObjectLookup;

  /** True when the ID is registered (available or not). */
  has(objectId: string): boolean;

  /**
   * The IDs of an object's children as preregistered, or `undefined` when the ID is unknown.
   */
  children(objectId: string): string[] | undefined;

  /**
   * The object tree rooted at `objectId` as registered (what the SuperLink returns with pulled
   * messages).
   * @throws NoObjectInStoreError when the ID or one of its descendants is unknown.
   */
  getObjectTree(objectId: string): ObjectTree;

  /**
   * The size in bytes of a stored object, `0` for a placeholder, `undefined` when unknown. For
   * traffic accounting without reading the bytes.
   */
  contentLength(objectId: string): number | undefined;

  /**
   * Deletes an object whose reference count is 0 (a message root: ConfirmMessageReceived, or
   * pulled replies) and, recursively, every descendant whose reference count drops to 0. An
   * object still referenced by a parent, or an unknown ID, is left alone (no error).
   */
  deleteMessage(objectId: string): void;

  /**
   * Deletes what `runId` registered: every object of the run with reference count 0 and its
   * unreferenced descendants; forgets the run's registrations. Objects still referenced from
   * elsewhere stay.
   */
  deleteRun(runId: bigint): void;

  /** Removes every object. */
  clear(): void;

  /** Counts of objects and stored bytes. */
  stats(): ObjectStoreStats;

  /** Releases resources (closes the database). Further calls throw. Idempotent. */
  close(): void;
}

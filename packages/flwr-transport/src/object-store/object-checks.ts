/**
 * Checks shared by the ObjectStore implementations: object-ID format, the tree walk of
 * `preregister`, and the verification of pushed bytes (Flower's `put` with `verify=True`).
 */
import {
  isValidObjectId,
  ObjectError,
  type ObjectHead,
  type ObjectTree,
  objectIdOf,
  parseObject,
} from "@flwr-ts/core";
import {
  InvalidObjectIdError,
  NoObjectInStoreError,
  UnexpectedObjectContentError,
} from "./object-store.js";

/** One node of a tree to preregister: its ID and its unique child IDs in tree order. */
export interface TreeEntry {
  /** Object ID. */
  readonly objectId: string;
  /** Unique child IDs. */
  readonly childIds: readonly string[];
}

/**
 * Flattens a tree in post-order (children before parents, as Python's `iterate_object_tree`),
 * validating every ID first, so that a bad tree registers nothing. Repeated child IDs of one
 * node are kept once. Iterative: a hostile deep tree cannot overflow the stack.
 * @throws InvalidObjectIdError for an ID that is not 64 hex digits.
 */
export function flattenTree(tree: ObjectTree): TreeEntry[] {
  const out: TreeEntry[] = [];
  // Explicit post-order: [node, expanded?]
  const stack: [ObjectTree, boolean][] = [[tree, false]];
  while (stack.length > 0) {
    const top = stack.pop()!;
    const [node, expanded] = top;
    if (!node || typeof node.objectId !== "string" || !isValidObjectId(node.objectId)) {
      throw new InvalidObjectIdError(String(node?.objectId));
    }
    const children = Array.isArray(node.children) ? node.children : [];
    if (expanded) {
      const childIds: string[] = [];
      const seen = new Set<string>();
      for (const c of children) {
        if (!seen.has(c.objectId)) {
          seen.add(c.objectId);
          childIds.push(c.objectId);
        }
      }
      out.push({ objectId: node.objectId, childIds });
      continue;
    }
    stack.push([node, true]);
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, false]);
  }
  return out;
}

/** Outcome of {@link verifyPushedObject}. */
export type PushedObjectCheck =
  | { readonly ok: false }
  | { readonly ok: true; readonly head: ObjectHead };

/**
 * Verifies pushed bytes like Flower: the SHA-256 must equal the ID (else `ok: false`, i.e.
 * `stored=false`), then the head must parse (else {@link UnexpectedObjectContentError}).
 */
export function verifyPushedObject(objectId: string, content: Uint8Array): PushedObjectCheck {
  if (!(content instanceof Uint8Array)) return { ok: false };
  if (objectIdOf(content) !== objectId) return { ok: false };
  try {
    return { ok: true, head: parseObject(content, objectId).head };
  } catch (e) {
    if (e instanceof ObjectError) {
      throw new UnexpectedObjectContentError(objectId, e.message, e);
    }
    throw e;
  }
}

/**
 * Checks that the children named in a pushed object's head are the children it was
 * preregistered with (as sets). Honest senders always match; a mismatch means the tree sent
 * with the message lied about the object.
 * @throws UnexpectedObjectContentError on a mismatch.
 */
export function checkChildrenMatch(
  objectId: string,
  headChildIds: readonly string[],
  registered: readonly string[],
): void {
  const a = new Set(headChildIds);
  const same = a.size === registered.length && registered.every((id) => a.has(id));
  if (!same) {
    throw new UnexpectedObjectContentError(
      objectId,
      `Its head lists children [${headChildIds.join(", ")}] but it was preregistered with [${registered.join(", ")}].`,
    );
  }
}

/**
 * Builds the {@link ObjectTree} below `rootId` from a store's child lists, shared by the
 * ObjectStore implementations. `childrenOf` returns an object's child IDs in order, or
 * `undefined` when the store does not know the object.
 * @throws NoObjectInStoreError for an unknown root, a cycle or a missing child.
 */
export function buildObjectTree(
  rootId: string,
  childrenOf: (objectId: string) => readonly string[] | undefined,
): ObjectTree {
  const ancestors = new Set<string>();
  const build = (objectId: string): ObjectTree => {
    const childIds = childrenOf(objectId);
    if (childIds === undefined) throw new NoObjectInStoreError(objectId);
    if (ancestors.has(objectId)) {
      throw new NoObjectInStoreError(
        objectId,
        `Object tree for object ID '${objectId}' contains a cycle. This may indicate a corrupted object store.`,
      );
    }
    ancestors.add(objectId);
    const children: ObjectTree[] = [];
    for (const childId of childIds) {
      try {
        children.push(build(childId));
      } catch (e) {
        if (e instanceof NoObjectInStoreError && e.objectId === childId) {
          throw new NoObjectInStoreError(
            objectId,
            `Object tree for object ID '${objectId}' contains missing children. This may indicate a corrupted object store.`,
          );
        }
        throw e;
      }
    }
    ancestors.delete(objectId);
    return { objectId, children };
  };
  return build(rootId);
}

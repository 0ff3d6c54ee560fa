/**
 * Inflating content-addressed objects back into records and messages, with full validation:
 * every object's SHA-256 must equal its ID, heads must parse, body lengths must match, types
 * must be known and fit their parent, children must be present and agree with the body.
 * Every problem raises an {@link ObjectError} subclass; nothing else escapes.
 *
 * Memory: an `Array` stored in a single chunk is inflated as a zero-copy view of that chunk's
 * bytes; an `Array` of several chunks is assembled into one new buffer (one copy). With
 * `consume: true`, entries are removed from the input map as soon as they are read and each
 * chunk is released once the last array using it is assembled, so the peak is the objects
 * not yet inflated plus one array being assembled.
 */
import type { MessageError } from "../message/error.js";
import { Message } from "../message/message.js";
import { NdArray } from "../records/array.js";
import { ArrayRecord } from "../records/array-record.js";
import { type AnyRecord, RecordDict } from "../records/record-dict.js";
import type { Inflatable } from "./deflate.js";
import {
  InvalidObjectContentError,
  MissingObjectError,
  ObjectError,
  ObjectIdMismatchError,
} from "./errors.js";
import { type JsonValue, parseJson } from "./json.js";
import { decodeMessageBody } from "./message-body.js";
import { type ObjectHead, type ObjectType, parseObject } from "./object-head.js";
import { sha256Hex } from "./object-id.js";
import { decodeConfigRecordBody, decodeMetricRecordBody } from "./record-body.js";

/** Options of the inflate functions. */
export interface InflateOptions {
  /**
   * Remove each entry from the input map once it has been read (the map must be a `Map`).
   * Lowers peak memory for large messages; on error the map may be partly emptied.
   */
  consume?: boolean;
}

const ALLOWED_CHILDREN: Record<ObjectType, readonly ObjectType[]> = {
  Message: ["RecordDict"],
  RecordDict: ["ArrayRecord", "ConfigRecord", "MetricRecord"],
  ArrayRecord: ["Array"],
  Array: ["ArrayChunk"],
  ArrayChunk: [],
  ConfigRecord: [],
  MetricRecord: [],
};

interface Parsed {
  head: ObjectHead;
  body: Uint8Array;
}

const textDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Verifies one object: its SHA-256 equals `objectId` and its head is well-formed with a
 * matching body length (what a store checks on `PushObject`).
 * @returns the parsed head and the body (a view of `content`).
 * @throws ObjectIdMismatchError, MalformedObjectHeadError, ObjectBodyLengthError, UnknownObjectTypeError.
 * @internal Exported for `@flwr-ts/transport`'s object stores.
 */
export function verifyObject(objectId: string, content: Uint8Array): Parsed {
  if (!(content instanceof Uint8Array)) {
    throw new InvalidObjectContentError(objectId, "object content must be a Uint8Array");
  }
  const actual = sha256Hex(content);
  if (actual !== objectId) throw new ObjectIdMismatchError(objectId, actual);
  return parseObject(content, objectId);
}

class Inflater {
  private readonly parsed = new Map<string, Parsed>();
  private readonly refs = new Map<string, number>();
  private readonly built = new Map<string, Inflatable>();

  constructor(
    private readonly objects: ReadonlyMap<string, Uint8Array>,
    private readonly consume: boolean,
  ) {}

  /** Pass 1: verify every reachable object, check parent/child types, count references. */
  scan(rootId: string): void {
    const stack: [string, string][] = [[rootId, ""]];
    while (stack.length > 0) {
      const [id, parent] = stack.pop()!;
      if (this.parsed.has(id)) continue;
      const content = this.objects.get(id);
      if (content === undefined) throw new MissingObjectError(id, parent);
      const p = verifyObject(id, content);
      if (this.consume) (this.objects as Map<string, Uint8Array>).delete(id);
      this.parsed.set(id, p);
      for (const child of p.head.childIds) {
        this.refs.set(child, (this.refs.get(child) ?? 0) + 1);
        stack.push([child, id]);
      }
    }
    for (const [id, p] of this.parsed) {
      for (const child of p.head.childIds) {
        const ct = this.parsed.get(child)!.head.type;
        if (!ALLOWED_CHILDREN[p.head.type].includes(ct)) {
          throw new InvalidObjectContentError(
            id,
            `a ${p.head.type} cannot have a ${ct} child (${child})`,
          );
        }
      }
    }
  }

  private release(childIds: readonly string[]): void {
    for (const c of childIds) {
      const n = (this.refs.get(c) ?? 1) - 1;
      this.refs.set(c, n);
      if (n <= 0) {
        this.parsed.delete(c);
        this.built.delete(c);
      }
    }
  }

  build(id: string): Inflatable {
    const done = this.built.get(id);
    if (done) return done;
    const p = this.parsed.get(id)!;
    let value: Inflatable;
    try {
      value = this.buildParsed(id, p);
    } catch (err) {
      if (err instanceof ObjectError) throw err;
      const e = new InvalidObjectContentError(
        id,
        `invalid ${p.head.type} body: ${(err as Error).message}`,
      );
      (e as { cause?: unknown }).cause = err;
      throw e;
    }
    this.built.set(id, value);
    this.release(p.head.childIds);
    return value;
  }

  private json(body: Uint8Array): JsonValue {
    return parseJson(textDecoder.decode(body));
  }

  private refsBody(id: string, p: Parsed): Map<string, string> {
    const doc = this.json(p.body);
    if (!(doc instanceof Map))
      throw new InvalidObjectContentError(id, "body must be a JSON object of name → object ID");
    const out = new Map<string, string>();
    for (const [k, v] of doc) {
      if (typeof v !== "string")
        throw new InvalidObjectContentError(id, `entry ${JSON.stringify(k)} is not an object ID`);
      out.set(k, v);
    }
    const inBody = new Set(out.values());
    const inHead = new Set(p.head.childIds);
    if (inBody.size !== inHead.size || [...inBody].some((x) => !inHead.has(x))) {
      throw new InvalidObjectContentError(
        id,
        "the IDs in the body differ from the children listed in the head",
      );
    }
    return out;
  }

  private buildParsed(id: string, p: Parsed): Inflatable {
    const { head, body } = p;
    switch (head.type) {
      case "ConfigRecord":
        return decodeConfigRecordBody(body);
      case "MetricRecord":
        return decodeMetricRecordBody(body);
      case "ArrayChunk":
        throw new InvalidObjectContentError(
          id,
          "an ArrayChunk is not a standalone record; inflate its Array",
        );
      case "Array":
        return this.array(id, p);
      case "ArrayRecord": {
        const rec = new ArrayRecord();
        for (const [name, child] of this.refsBody(id, p))
          rec.set(name, this.build(child) as NdArray);
        return rec;
      }
      case "RecordDict": {
        const rec = new RecordDict();
        for (const [name, child] of this.refsBody(id, p))
          rec.set(name, this.build(child) as AnyRecord);
        return rec;
      }
      case "Message": {
        const { metadata, error } = decodeMessageBody(body);
        metadata.messageId = id;
        if (error !== undefined) {
          if (head.childIds.length !== 0) {
            throw new InvalidObjectContentError(
              id,
              "a Message carrying an error must have no children",
            );
          }
          return new Message(metadata, error as MessageError);
        }
        if (head.childIds.length !== 1) {
          throw new InvalidObjectContentError(
            id,
            "a Message with content must have exactly one RecordDict child",
          );
        }
        return new Message(metadata, this.build(head.childIds[0]!) as RecordDict);
      }
    }
  }

  private array(id: string, p: Parsed): NdArray {
    const doc = this.json(p.body);
    const bad = (what: string): never => {
      throw new InvalidObjectContentError(id, `Array body: ${what}`);
    };
    if (!(doc instanceof Map)) return bad("not a JSON object");
    const dtype = doc.get("dtype");
    const shape = doc.get("shape");
    const stype = doc.get("stype");
    const idx = doc.get("arraychunk_ids");
    if (typeof dtype !== "string") bad("dtype is not a string");
    if (typeof stype !== "string") bad("stype is not a string");
    if (!Array.isArray(shape)) bad("shape is not a list");
    if (!Array.isArray(idx)) bad("arraychunk_ids is not a list");
    const children = p.head.childIds;
    const used = new Set<number>();
    for (const i of idx as JsonValue[]) {
      if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= children.length) {
        bad(
          `chunk index ${JSON.stringify(i)} is not an index into the ${children.length} children`,
        );
      }
      used.add(i as number);
    }
    if (used.size !== children.length) bad("some children are not used by arraychunk_ids");
    const bodies = (idx as number[]).map((i) => this.parsed.get(children[i]!)!.body);
    let data: Uint8Array;
    if (bodies.length === 1) data = bodies[0]!;
    else {
      let total = 0;
      for (const b of bodies) total += b.length;
      data = new Uint8Array(total);
      let off = 0;
      for (const b of bodies) {
        data.set(b, off);
        off += b.length;
      }
    }
    return new NdArray({
      dtype: dtype as string,
      shape: shape as number[],
      stype: stype as string,
      data,
    });
  }
}

/**
 * Inflates the object graph rooted at `rootId`.
 * @param objects - object ID → serialized bytes (must contain every descendant).
 * @param rootId - ID of the root object.
 * @throws ObjectError subclasses for every problem.
 */
export function inflateObject(
  objects: ReadonlyMap<string, Uint8Array>,
  rootId: string,
  options: InflateOptions = {},
): Inflatable {
  const consume = options.consume === true;
  if (consume && !(objects instanceof Map)) {
    throw new ObjectError("bad-argument", "", "consume: true needs a Map of objects");
  }
  const inf = new Inflater(objects, consume);
  inf.scan(rootId);
  return inf.build(rootId);
}

/**
 * Inflates a Message from its objects. The returned message's `metadata.messageId` is set to
 * `rootId` (a message's ID is its object ID).
 * @throws ObjectError subclasses for every problem, including a root that is not a Message.
 */
export function inflateMessage(
  objects: ReadonlyMap<string, Uint8Array>,
  rootId: string,
  options: InflateOptions = {},
): Message {
  const content = objects.get(rootId);
  if (content !== undefined) {
    const { head } = verifyObject(rootId, content);
    if (head.type !== "Message") {
      throw new InvalidObjectContentError(rootId, `expected a Message object, got a ${head.type}`);
    }
  }
  return inflateObject(objects, rootId, options) as Message;
}

/** Type-checked variant of {@link inflateObject} for records. */
export function inflateRecordDict(
  objects: ReadonlyMap<string, Uint8Array>,
  rootId: string,
): RecordDict {
  const v = inflateObject(objects, rootId);
  if (!(v instanceof RecordDict))
    throw new InvalidObjectContentError(rootId, "expected a RecordDict object");
  return v;
}

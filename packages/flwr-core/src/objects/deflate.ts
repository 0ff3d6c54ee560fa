/**
 * Deflating records and messages into content-addressed objects (Python Flower's
 * `InflatableObject.deflate` / `object_id` / `get_object_tree` / `get_all_nested_objects`).
 *
 * Memory: {@link deflateLazy} and {@link deflateMessageLazy} hold **no copy** of array data —
 * each `ArrayChunk`'s body is a `subarray` view of the `NdArray`'s `.npy` bytes and IDs are
 * computed by feeding head and body to an incremental SHA-256. Each `DeflatedObject.content()`
 * call materializes that one object (head + body, one copy of at most one chunk).
 * {@link deflateMessage} materializes every object, so its result holds exactly one extra copy
 * of each unique chunk (≈ one copy of the array data) plus small heads.
 */
import type { MessageError } from "../message/error.js";
import { Message } from "../message/message.js";
import { NdArray } from "../records/array.js";
import { ArrayRecord } from "../records/array-record.js";
import { ConfigRecord } from "../records/config-record.js";
import { MetricRecord } from "../records/metric-record.js";
import { RecordDict } from "../records/record-dict.js";
import { checkChunkSize, maxArrayChunkSize } from "./chunk-size.js";
import { ObjectError } from "./errors.js";
import { pyJsonDumps } from "./json.js";
import { encodeMessageBody } from "./message-body.js";
import { encodeObjectHead, type ObjectType } from "./object-head.js";
import { sha256Hex } from "./object-id.js";
import type { ObjectTree } from "./object-tree.js";
import { encodeConfigRecordBody, encodeMetricRecordBody } from "./record-body.js";

/** Anything that deflates to an object. */
export type Inflatable = Message | RecordDict | ArrayRecord | NdArray | ConfigRecord | MetricRecord;

/** One serialized object, kept as head + body views until materialized. */
export interface DeflatedObject {
  /** Object ID (SHA-256 of head + body). */
  readonly id: string;
  /** Object type. */
  readonly type: ObjectType;
  /** Unique child IDs in head order. */
  readonly childIds: readonly string[];
  /** Head bytes including the trailing NUL divider. */
  readonly head: Uint8Array;
  /** Body bytes (for ArrayChunks, a view of the array's data). */
  readonly body: Uint8Array;
  /** Total serialized length. */
  readonly byteLength: number;
  /** The exact serialized bytes (a fresh buffer on every call). */
  content(): Uint8Array;
}

/** Options of the deflate functions. */
export interface DeflateOptions {
  /** Maximum ArrayChunk size; defaults to {@link maxArrayChunkSize} (env or 5 MiB). */
  chunkSize?: number;
}

/** Lazily-materialized objects of a graph. */
export interface LazyDeflateResult {
  /** ID of the root object. */
  readonly rootId: string;
  /** Object tree rooted at the root object. */
  readonly tree: ObjectTree;
  /** Every unique object, children before parents (post-order of first occurrence). */
  readonly objects: Map<string, DeflatedObject>;
}

/** A deflated message with materialized object bytes. */
export interface DeflatedMessage {
  /** The message ID: the Message object's ID (computed with `message_id` blank). */
  readonly messageId: string;
  /** The message's object tree. */
  readonly tree: ObjectTree;
  /** Object ID → exact serialized bytes, children before parents. */
  readonly objects: Map<string, Uint8Array>;
}

/** A deflated message whose object bytes are produced on demand. */
export interface LazyDeflatedMessage {
  /** The message ID. */
  readonly messageId: string;
  /** The message's object tree. */
  readonly tree: ObjectTree;
  /** Object ID → object, children before parents. */
  readonly objects: Map<string, DeflatedObject>;
}

const textEncoder = new TextEncoder();

function makeObject(
  type: ObjectType,
  childIds: readonly string[],
  body: Uint8Array,
): DeflatedObject {
  const head = encodeObjectHead(type, childIds, body.length);
  const id = sha256Hex(head, body);
  return {
    id,
    type,
    childIds,
    head,
    body,
    byteLength: head.length + body.length,
    content(): Uint8Array {
      const out = new Uint8Array(head.length + body.length);
      out.set(head, 0);
      out.set(body, head.length);
      return out;
    },
  };
}

class Deflater {
  readonly objects = new Map<string, DeflatedObject>();
  private readonly memo = new Map<object, ObjectTree>();

  constructor(private readonly chunkSize: number) {}

  private emit(obj: DeflatedObject, children: ObjectTree[]): ObjectTree {
    if (!this.objects.has(obj.id)) this.objects.set(obj.id, obj);
    return { objectId: obj.id, children };
  }

  private unique(trees: ObjectTree[]): ObjectTree[] {
    const seen = new Set<string>();
    const out: ObjectTree[] = [];
    for (const t of trees) {
      if (seen.has(t.objectId)) continue;
      seen.add(t.objectId);
      out.push(t);
    }
    return out;
  }

  visit(x: Inflatable): ObjectTree {
    const cached = this.memo.get(x);
    if (cached) return cached;
    const tree = this.build(x);
    this.memo.set(x, tree);
    return tree;
  }

  private build(x: Inflatable): ObjectTree {
    if (x instanceof NdArray) return this.array(x);
    if (x instanceof ConfigRecord)
      return this.emit(makeObject("ConfigRecord", [], encodeConfigRecordBody(x)), []);
    if (x instanceof MetricRecord)
      return this.emit(makeObject("MetricRecord", [], encodeMetricRecordBody(x)), []);
    if (x instanceof ArrayRecord || x instanceof RecordDict) {
      const refs = new Map<string, string>();
      const trees: ObjectTree[] = [];
      for (const [name, child] of x as Map<string, Inflatable>) {
        const t = this.visit(child);
        trees.push(t);
        refs.set(name, t.objectId);
      }
      const children = this.unique(trees);
      const body = textEncoder.encode(pyJsonDumps(refs));
      const type = x instanceof ArrayRecord ? "ArrayRecord" : "RecordDict";
      return this.emit(
        makeObject(
          type,
          children.map((c) => c.objectId),
          body,
        ),
        children,
      );
    }
    if (x instanceof Message) {
      const error: MessageError | undefined = x.hasError() ? x.error : undefined;
      const children = x.hasContent() ? [this.visit(x.content)] : [];
      const body = encodeMessageBody(x.metadata, error);
      return this.emit(
        makeObject(
          "Message",
          children.map((c) => c.objectId),
          body,
        ),
        children,
      );
    }
    throw new ObjectError(
      "not-inflatable",
      "",
      "only Message, RecordDict, ArrayRecord, NdArray, ConfigRecord and MetricRecord deflate to objects",
    );
  }

  private array(a: NdArray): ObjectTree {
    const chunkTrees: ObjectTree[] = [];
    const data = a.data;
    for (let start = 0; start < data.length; start += this.chunkSize) {
      const view = data.subarray(start, Math.min(start + this.chunkSize, data.length));
      chunkTrees.push(this.emit(makeObject("ArrayChunk", [], view), []));
    }
    const children = this.unique(chunkTrees);
    const index = new Map(children.map((c, i) => [c.objectId, i]));
    const meta = new Map<string, string | number[]>([
      ["dtype", a.dtype],
      ["shape", [...a.shape]],
      ["stype", a.stype],
      ["arraychunk_ids", chunkTrees.map((c) => index.get(c.objectId)!)],
    ]);
    const body = textEncoder.encode(pyJsonDumps(meta));
    return this.emit(
      makeObject(
        "Array",
        children.map((c) => c.objectId),
        body,
      ),
      children,
    );
  }
}

/**
 * Deflates any object graph without materializing object bytes (see the module note on memory).
 * @throws RecordValueError when a record holds a value that cannot be encoded.
 */
export function deflateLazy(root: Inflatable, options: DeflateOptions = {}): LazyDeflateResult {
  const chunkSize =
    options.chunkSize === undefined ? maxArrayChunkSize() : checkChunkSize(options.chunkSize);
  const d = new Deflater(chunkSize);
  const tree = d.visit(root);
  return { rootId: tree.objectId, tree, objects: d.objects };
}

/** The object ID of any record, array or message (a message's ID is computed with `message_id` blank). */
export function objectIdOfInflatable(root: Inflatable, options: DeflateOptions = {}): string {
  return deflateLazy(root, options).rootId;
}

/** Deflates a message; its objects are materialized on demand. */
export function deflateMessageLazy(
  msg: Message,
  options: DeflateOptions = {},
): LazyDeflatedMessage {
  if (!(msg instanceof Message))
    throw new ObjectError("not-a-message", "", "deflateMessage expects a Message");
  const r = deflateLazy(msg, options);
  return { messageId: r.rootId, tree: r.tree, objects: r.objects };
}

/**
 * Deflates a message into its object ID, object tree and the exact bytes of every object.
 * The message itself is not modified (set `msg.metadata.messageId = messageId` if needed).
 */
export function deflateMessage(msg: Message, options: DeflateOptions = {}): DeflatedMessage {
  const r = deflateMessageLazy(msg, options);
  const objects = new Map<string, Uint8Array>();
  for (const [id, o] of r.objects) objects.set(id, o.content());
  return { messageId: r.messageId, tree: r.tree, objects };
}

/**
 * Test helper: a language-neutral JSON description of a Message (shared with
 * `interop/record_vectors.py`), to build the same message in TypeScript and in Python and to
 * compare messages exactly (floats by their bits, ints as decimal strings, bytes as base64).
 */
import {
  ArrayRecord,
  ConfigRecord,
  type ConfigValue,
  type DType,
  dtypeInfo,
  Message,
  MessageError,
  Metadata,
  MetricRecord,
  NdArray,
  RecordDict,
} from "../src/index.js";

/** A described value. */
export type ValueDesc = { t: string; v?: unknown };
/** A described array: dtype, shape, base64 of the raw little-endian C-order elements. */
export type ArrayDesc = { dtype: string; shape: number[]; data: string };
/** A described record. */
export type RecordDesc =
  | { t: "array"; items: [string, ArrayDesc][] }
  | { t: "metric" | "config"; items: [string, ValueDesc][] };
/** A described message. */
export interface MessageDesc {
  metadata: {
    run_id: string;
    src: string;
    dst: string;
    reply_to: string;
    group_id: string;
    ttl: string;
    created_at: string;
    message_type: string;
  };
  error: { code: string; reason: string } | null;
  content: [string, RecordDesc][] | null;
}

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

/** 16 hex digits of a double's big-endian bits. */
export function fhex(f: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, f);
  return dv.getBigUint64(0).toString(16).padStart(16, "0");
}

function unfhex(h: string): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, BigInt(`0x${h}`));
  return dv.getFloat64(0);
}

function valueFromDesc(d: ValueDesc): ConfigValue {
  const v = d.v as never;
  switch (d.t) {
    case "int":
      return BigInt(v);
    case "float":
      return unfhex(v);
    case "bool":
    case "str":
      return v;
    case "bytes":
      return unb64(v);
    case "int_list":
      return (v as string[]).map((x) => BigInt(x));
    case "float_list":
      return (v as string[]).map(unfhex);
    case "bool_list":
    case "str_list":
      return v;
    case "bytes_list":
      return (v as string[]).map(unb64);
    case "empty_list":
      return [];
    default:
      throw new Error(`unknown value type ${d.t}`);
  }
}

function valueToDesc(v: ConfigValue): ValueDesc {
  if (Array.isArray(v)) {
    if (v.length === 0) return { t: "empty_list" };
    const first = v[0];
    if (typeof first === "bigint") return { t: "int_list", v: v.map((x) => String(x)) };
    if (typeof first === "number") return { t: "float_list", v: (v as number[]).map(fhex) };
    if (typeof first === "boolean") return { t: "bool_list", v: [...v] };
    if (typeof first === "string") return { t: "str_list", v: [...v] };
    return { t: "bytes_list", v: (v as Uint8Array[]).map(b64) };
  }
  if (typeof v === "bigint") return { t: "int", v: String(v) };
  if (typeof v === "number") return { t: "float", v: fhex(v) };
  if (typeof v === "boolean") return { t: "bool", v };
  if (typeof v === "string") return { t: "str", v };
  return { t: "bytes", v: b64(v as Uint8Array) };
}

/** Builds an NdArray as numpy would from dtype, shape and raw element bytes. */
export function arrayFromRaw(dtype: string, shape: number[], raw: Uint8Array): NdArray {
  const info = dtypeInfo(dtype);
  const copy = new Uint8Array(raw); // aligned copy
  const typed = new info.ctor(copy.buffer, 0, raw.length / info.itemSize);
  return NdArray.fromTypedArray(typed as never, shape, dtype as DType);
}

function arrayToDesc(a: NdArray): ArrayDesc {
  const h = a.npyHeader();
  return { dtype: a.dtype, shape: [...a.shape], data: b64(a.data.subarray(h.dataOffset)) };
}

/** Builds a Message from its description. */
export function messageFromDesc(d: MessageDesc): Message {
  const m = d.metadata;
  const metadata = new Metadata({
    runId: BigInt(m.run_id),
    messageId: "",
    srcNodeId: BigInt(m.src),
    dstNodeId: BigInt(m.dst),
    replyToMessageId: m.reply_to,
    groupId: m.group_id,
    ttl: unfhex(m.ttl),
    createdAt: unfhex(m.created_at),
    messageType: m.message_type,
  });
  if (d.error) return new Message(metadata, new MessageError(BigInt(d.error.code), d.error.reason));
  const content = new RecordDict();
  for (const [key, r] of d.content ?? []) {
    if (r.t === "array") {
      content.set(
        key,
        new ArrayRecord(
          r.items.map(([k, a]) => [k, arrayFromRaw(a.dtype, a.shape, unb64(a.data))]),
        ),
      );
    } else if (r.t === "metric") {
      content.set(key, new MetricRecord(r.items.map(([k, v]) => [k, valueFromDesc(v) as never])));
    } else {
      content.set(key, new ConfigRecord(r.items.map(([k, v]) => [k, valueFromDesc(v)])));
    }
  }
  return new Message(metadata, content);
}

/** Describes a Message (the inverse of {@link messageFromDesc}). */
export function messageToDesc(msg: Message): MessageDesc {
  const m = msg.metadata;
  const metadata = {
    run_id: String(m.runId),
    src: String(m.srcNodeId),
    dst: String(m.dstNodeId),
    reply_to: m.replyToMessageId,
    group_id: m.groupId,
    ttl: fhex(m.ttl),
    created_at: fhex(m.createdAt),
    message_type: m.messageType,
  };
  if (msg.hasError()) {
    return {
      metadata,
      error: { code: String(msg.error.code), reason: msg.error.reason ?? "" },
      content: null,
    };
  }
  const content: [string, RecordDesc][] = [];
  for (const [key, r] of msg.content) {
    if (r instanceof ArrayRecord) {
      content.push([key, { t: "array", items: [...r].map(([k, a]) => [k, arrayToDesc(a)]) }]);
    } else {
      const t = r instanceof MetricRecord ? "metric" : "config";
      content.push([key, { t, items: [...r].map(([k, v]) => [k, valueToDesc(v)]) }]);
    }
  }
  return { metadata, error: null, content };
}

/**
 * Protobuf bodies of `ConfigRecord` and `MetricRecord` objects: the proto messages
 * `flwr.proto.ConfigRecord` / `MetricRecord` (`repeated Item{key=1, value=2}`), byte-identical to
 * Python's `SerializeToString()`.
 */
import { ConfigRecord } from "../records/config-record.js";
import { MetricRecord } from "../records/metric-record.js";
import {
  type ConfigValue,
  classifyValue,
  type ListKind,
  type ValueKind,
} from "../records/scalar.js";
import {
  expectWire,
  fixedToDouble,
  unzigzag,
  utf8,
  WireFormatError,
  WireReader,
} from "./wire-reader.js";
import { WireWriter } from "./wire-writer.js";

const FIELD: Record<ValueKind | ListKind, number> = {
  double: 1,
  sint64: 2,
  uint64: 3,
  bool: 4,
  string: 5,
  bytes: 6,
  doubleList: 21,
  sintList: 22,
  uintList: 23,
  boolList: 24,
  stringList: 25,
  bytesList: 26,
};

const textEncoder = new TextEncoder();

/** Encodes one `*RecordValue` message. */
export function encodeRecordValue(value: ConfigValue, kind: ValueKind | ListKind): Uint8Array {
  const w = new WireWriter();
  const field = FIELD[kind];
  switch (kind) {
    case "double":
      w.tag(field, 1).double(value as number);
      break;
    case "sint64":
      w.tag(field, 0).sint64(value as bigint);
      break;
    case "uint64":
      w.tag(field, 0).varint(value as bigint);
      break;
    case "bool":
      w.tag(field, 0).varint(value ? 1 : 0);
      break;
    case "string":
      w.stringField(field, value as string);
      break;
    case "bytes":
      w.lenField(field, value as Uint8Array);
      break;
    default: {
      const list = value as readonly unknown[];
      const inner = new WireWriter();
      if (kind === "stringList") {
        for (const s of list as string[]) inner.stringField(1, s);
      } else if (kind === "bytesList") {
        for (const b of list as Uint8Array[]) inner.lenField(1, b);
      } else if (list.length > 0) {
        const packed = new WireWriter();
        for (const v of list) {
          if (kind === "doubleList") packed.double(v as number);
          else if (kind === "sintList") packed.sint64(v as bigint);
          else if (kind === "uintList") packed.varint(v as bigint);
          else packed.varint(v ? 1 : 0);
        }
        inner.lenField(1, packed.finish());
      }
      w.lenField(field, inner.finish());
    }
  }
  return w.finish();
}

/** Encodes a record's entries as a `ConfigRecord`/`MetricRecord` proto message. */
function encodeItems(entries: Iterable<[string, ConfigValue]>, config: boolean): Uint8Array {
  const w = new WireWriter();
  for (const [key, value] of entries) {
    const kind = classifyValue(value, config, key);
    const item = new WireWriter();
    if (key !== "") item.lenField(1, textEncoder.encode(key));
    item.lenField(2, encodeRecordValue(value, kind));
    w.lenField(1, item.finish());
  }
  return w.finish();
}

/** The body of a `ConfigRecord` object (also the proto `flwr.proto.ConfigRecord` bytes). */
export function encodeConfigRecordBody(record: ConfigRecord): Uint8Array {
  return encodeItems(record, true);
}

/** The body of a `MetricRecord` object (also the proto `flwr.proto.MetricRecord` bytes). */
export function encodeMetricRecordBody(record: MetricRecord): Uint8Array {
  return encodeItems(record, false);
}

function decodePacked(
  bytes: Uint8Array,
  kind: "double" | "sint" | "uint" | "bool",
  out: unknown[],
): void {
  const r = new WireReader(bytes);
  while (!r.done) {
    if (kind === "double") out.push(r.double());
    else {
      const v = r.varint();
      out.push(kind === "sint" ? unzigzag(v) : kind === "uint" ? v : v !== 0n);
    }
  }
}

function decodeList(bytes: Uint8Array, kind: ListKind): ConfigValue {
  const out: unknown[] = [];
  const r = new WireReader(bytes);
  const scalar =
    kind === "doubleList"
      ? "double"
      : kind === "sintList"
        ? "sint"
        : kind === "uintList"
          ? "uint"
          : kind === "boolList"
            ? "bool"
            : undefined;
  while (!r.done) {
    const f = r.next();
    if (f.field !== 1) continue; // unknown field: ignored, like protobuf runtimes
    if (scalar === undefined) {
      expectWire(f, 2, "list element");
      out.push(kind === "stringList" ? utf8(f.bytes) : f.bytes.slice());
    } else if (f.wireType === 2) {
      decodePacked(f.bytes, scalar, out);
    } else if (scalar === "double") {
      expectWire(f, 1, "double list element");
      out.push(fixedToDouble(f.int));
    } else {
      expectWire(f, 0, "list element");
      out.push(scalar === "sint" ? unzigzag(f.int) : scalar === "uint" ? f.int : f.int !== 0n);
    }
  }
  return out as ConfigValue;
}

const KIND_BY_FIELD = new Map<number, ValueKind | ListKind>(
  Object.entries(FIELD).map(([k, v]) => [v, k as ValueKind | ListKind]),
);
const METRIC_KINDS = new Set<string>([
  "double",
  "sint64",
  "uint64",
  "doubleList",
  "sintList",
  "uintList",
]);

/** Decodes one `*RecordValue` message. */
export function decodeRecordValue(bytes: Uint8Array, config: boolean): ConfigValue {
  const r = new WireReader(bytes);
  let value: ConfigValue | undefined;
  while (!r.done) {
    const f = r.next();
    const kind = KIND_BY_FIELD.get(f.field);
    if (kind === undefined || (!config && !METRIC_KINDS.has(kind))) continue;
    switch (kind) {
      case "double":
        expectWire(f, 1, "double value");
        value = fixedToDouble(f.int);
        break;
      case "sint64":
        expectWire(f, 0, "sint64 value");
        value = unzigzag(f.int);
        break;
      case "uint64":
        expectWire(f, 0, "uint64 value");
        value = f.int;
        break;
      case "bool":
        expectWire(f, 0, "bool value");
        value = f.int !== 0n;
        break;
      case "string":
        expectWire(f, 2, "string value");
        value = utf8(f.bytes);
        break;
      case "bytes":
        expectWire(f, 2, "bytes value");
        value = f.bytes.slice();
        break;
      default:
        expectWire(f, 2, "list value");
        value = decodeList(f.bytes, kind);
    }
  }
  if (value === undefined) {
    throw new WireFormatError(`${config ? "ConfigRecord" : "MetricRecord"} item has no value set`);
  }
  return value;
}

function decodeItems(body: Uint8Array, config: boolean): [string, ConfigValue][] {
  const out: [string, ConfigValue][] = [];
  const r = new WireReader(body);
  while (!r.done) {
    const f = r.next();
    if (f.field !== 1) continue;
    expectWire(f, 2, "record item");
    const ir = new WireReader(f.bytes);
    let key = "";
    let value: ConfigValue | undefined;
    while (!ir.done) {
      const g = ir.next();
      if (g.field === 1) {
        expectWire(g, 2, "item key");
        key = utf8(g.bytes);
      } else if (g.field === 2) {
        expectWire(g, 2, "item value");
        value = decodeRecordValue(g.bytes, config);
      }
    }
    if (value === undefined)
      throw new WireFormatError(`record item ${JSON.stringify(key)} has no value`);
    out.push([key, value]);
  }
  return out;
}

/**
 * Decodes a `ConfigRecord` object body / proto message.
 * @throws WireFormatError for malformed bytes; RecordValueError for values a record cannot hold.
 */
export function decodeConfigRecordBody(body: Uint8Array): ConfigRecord {
  return new ConfigRecord(decodeItems(body, true));
}

/**
 * Decodes a `MetricRecord` object body / proto message.
 * @throws WireFormatError for malformed bytes; RecordValueError for values a record cannot hold.
 */
export function decodeMetricRecordBody(body: Uint8Array): MetricRecord {
  return new MetricRecord(decodeItems(body, false) as [string, bigint | number][]);
}

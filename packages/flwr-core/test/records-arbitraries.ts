/** Test helper: fast-check arbitraries for random records and messages of every value kind. */
import fc from "fast-check";
import {
  ArrayRecord,
  ConfigRecord,
  type ConfigValue,
  DTYPES,
  dtypeInfo,
  INT64_MAX,
  INT64_MIN,
  Message,
  MessageError,
  Metadata,
  MetricRecord,
  type MetricValue,
  type NdArray,
  RecordDict,
  UINT64_MAX,
} from "../src/index.js";
import { arrayFromRaw } from "./records-desc.js";

const SPECIAL_KEYS = [
  "",
  "w",
  "ключ",
  "名前",
  "🔥",
  'q"uote',
  "b\\s",
  "t\tn\n",
  "\x01\x7f",
  "1",
  "0",
  "10",
];

/** Record keys: tricky fixed keys and random Unicode strings. */
export const keyArb = fc.oneof(
  fc.constantFrom(...SPECIAL_KEYS),
  fc.string({ unit: "grapheme", maxLength: 8 }),
);

const sint = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
const uint = fc.bigInt({ min: INT64_MAX + 1n, max: UINT64_MAX });
const float = fc.double();
const bytes = fc.uint8Array({ maxLength: 12 });
const str = fc.string({ unit: "grapheme", maxLength: 10 });

/** MetricRecord values. */
export const metricValueArb: fc.Arbitrary<MetricValue> = fc.oneof(
  sint,
  uint,
  float,
  fc.array(sint, { maxLength: 5 }),
  fc.array(fc.bigInt({ min: 0n, max: UINT64_MAX }), { minLength: 1, maxLength: 5 }),
  fc.array(float, { maxLength: 5 }),
);

/** ConfigRecord values. */
export const configValueArb: fc.Arbitrary<ConfigValue> = fc.oneof(
  metricValueArb,
  fc.boolean(),
  str,
  bytes,
  fc.array(fc.boolean(), { maxLength: 5 }),
  fc.array(str, { maxLength: 5 }),
  fc.array(bytes, { maxLength: 5 }),
);

/** Arrays of every dtype, including 0-d and empty shapes. */
export const arrayArb: fc.Arbitrary<NdArray> = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  })
  .chain(({ dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const size = n * dtypeInfo(dtype).itemSize;
    const raw =
      dtype === "bool"
        ? fc
            .array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n })
            .map((a) => new Uint8Array(a))
        : fc.uint8Array({ minLength: size, maxLength: size });
    return raw.map((r) => arrayFromRaw(dtype, shape, r));
  });

const entries = <V>(v: fc.Arbitrary<V>) => fc.array(fc.tuple(keyArb, v), { maxLength: 5 });

/** Any of the three record kinds. */
export const recordArb = fc.oneof(
  entries(arrayArb).map((e) => new ArrayRecord(e)),
  entries(metricValueArb).map((e) => new MetricRecord(e)),
  entries(configValueArb).map((e) => new ConfigRecord(e)),
);

/** RecordDicts. */
export const recordDictArb = entries(recordArb).map((e) => new RecordDict(e));

const u64 = fc.bigInt({ min: 0n, max: UINT64_MAX });

/** Metadata with random fields. */
export const metadataArb = fc
  .record({
    runId: u64,
    srcNodeId: u64,
    dstNodeId: u64,
    replyToMessageId: fc.constantFrom("", "ab".repeat(32)),
    groupId: str,
    ttl: fc.double(),
    createdAt: fc.double(),
    messageType: fc.constantFrom(
      "train",
      "evaluate",
      "query",
      "system",
      "train.custom_1",
      "query.ä",
    ),
  })
  .map((m) => new Metadata({ ...m, messageId: "" }));

/** Messages with content or an error. */
export const messageArb = fc
  .tuple(
    metadataArb,
    fc.oneof(
      { weight: 4, arbitrary: recordDictArb },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.option(str, { nil: undefined }))
          .map(([c, r]) => new MessageError(c, r)),
      },
    ),
  )
  .map(([m, c]) => new Message(m, c));

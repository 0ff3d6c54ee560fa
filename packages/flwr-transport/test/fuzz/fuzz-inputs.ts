/**
 * Seeded inputs for the wire fuzz (issue #12): for one rpc, a request body — random bytes, a
 * well-framed protobuf stream of random fields (invalid UTF-8, huge length prefixes and deep
 * nesting included), or a valid request of that rpc mutated byte-wise — and call metadata (random
 * entries, Flower's auth entries with random or real values, app tokens, now and then a value
 * over Flower's 16 KiB limit). Built on fast-check's arbitraries and `fc.sample` with a seed, so a
 * run is reproducible from its seed and count.
 */
import fc from "fast-check";
import type { GenericMethod } from "../../src/wire/service-definition.js";

/** One metadata entry: a `-bin` key carries bytes. */
export type FuzzMetadataValue = string | Buffer;

/** Metadata entries in order. */
type Entries = [string, FuzzMetadataValue][];

/** One fuzz input. */
export interface FuzzInput {
  /** The request body. */
  body: Buffer;
  /** Call metadata (HTTP headers on the HTTP wire; `-bin` entries are skipped there). */
  metadata: [string, FuzzMetadataValue][];
  /** How the body was made. */
  kind: "random" | "fields" | "mutated";
}

/** Values a valid-looking request of the fuzzed servers carries. */
export interface FuzzContext {
  /** A registered node's id (Fleet). */
  nodeId: bigint;
  /** A run's id (AppIo). */
  runId: bigint;
  /** A valid app token (ServerAppIo) for `runId`. */
  token: string;
  /** Fresh Flower auth metadata of the registered node (Fleet), or undefined. */
  signedMetadata?: () => [string, FuzzMetadataValue][];
}

const varint = (n: number | bigint): number[] => {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
};

/** A protobuf stream of random fields, nested up to `depth` levels. */
const fieldStream = (depth: number): fc.Arbitrary<number[]> =>
  fc
    .array(
      fc.oneof(
        fc
          .tuple(fc.integer({ min: 1, max: 20 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
          .map(([f, v]) => [...varint((f << 3) | 0), ...varint(v)]),
        fc
          .tuple(fc.integer({ min: 1, max: 20 }), fc.uint8Array({ maxLength: 40 }))
          .map(([f, bytes]) => [...varint((f << 3) | 2), ...varint(bytes.length), ...bytes]),
        // Invalid UTF-8 in a length-delimited field (a string wherever the field is one).
        fc.integer({ min: 1, max: 20 }).map((f) => [...varint((f << 3) | 2), 3, 0x61, 0xc3, 0x28]),
        // A length prefix far past the end of the body.
        fc
          .tuple(fc.integer({ min: 1, max: 20 }), fc.bigInt({ min: 1n << 20n, max: 1n << 40n }))
          .map(([f, len]) => [...varint((f << 3) | 2), ...varint(len)]),
        fc
          .tuple(fc.integer({ min: 1, max: 20 }), fc.constantFrom(1, 5))
          .map(([f, wt]) => [...varint((f << 3) | wt), ...new Array(wt === 1 ? 8 : 4).fill(0xab)]),
        ...(depth > 0
          ? [
              fc
                .tuple(fc.integer({ min: 1, max: 20 }), fieldStream(depth - 1))
                .map(([f, inner]) => [...varint((f << 3) | 2), ...varint(inner.length), ...inner]),
            ]
          : []),
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.flat());

/** 200 levels of field 1 inside field 1: deep nesting for every message type. */
function deeplyNested(levels: number): number[] {
  let inner: number[] = [];
  for (let i = 0; i < levels; i++) inner = [0x0a, ...varint(inner.length), ...inner];
  return inner;
}

const metadataKey = fc
  .stringMatching(/^[a-z][a-z0-9._-]{0,15}$/)
  .filter((k) => !k.startsWith("grpc-") && !k.startsWith("flwr-ts-") && !k.endsWith("-bin"));
const headerValue = fc.stringMatching(/^[ -~]{0,60}$/).map((s) => s.trim());

function metadataArb(context: FuzzContext): fc.Arbitrary<Entries> {
  const entry: fc.Arbitrary<Entries> = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(metadataKey, headerValue).map((e): Entries => [e]) },
    // Flower's auth entries with random bytes.
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.uint8Array({ maxLength: 120 }), fc.uint8Array({ maxLength: 110 }), headerValue)
        .map(
          ([key, sig, ts]): Entries => [
            ["flwr-public-key-bin", Buffer.from(key)],
            ["flwr-signature-bin", Buffer.from(sig)],
            ["flwr-timestamp", ts],
          ],
        ),
    },
    { weight: 2, arbitrary: headerValue.map((t): Entries => [["flwr-app-token", t]]) },
    { weight: 2, arbitrary: fc.constant<Entries>([["flwr-app-token", context.token]]) },
    ...(context.signedMetadata
      ? [{ weight: 4, arbitrary: fc.constant(null).map((): Entries => context.signedMetadata!()) }]
      : []),
    // Over Flower's 16 KiB hard limit.
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 17_000, max: 40_000 })
        .map((n): Entries => [["x-oversized", "a".repeat(n)]]),
    },
  );
  return fc.array(entry, { maxLength: 3 }).map((parts) => parts.flat());
}

/** A valid request of `method` naming the context's node, run and token. */
export function validRequest(method: GenericMethod, context: FuzzContext): Buffer {
  const codec = method.requestType as unknown as {
    fromPartial(o: object): unknown;
    encode(m: unknown): { finish(): Uint8Array };
  };
  const message = codec.fromPartial({
    node: { nodeId: context.nodeId },
    nodeId: context.nodeId,
    runId: context.runId,
    token: context.token,
  });
  return Buffer.from(codec.encode(message).finish());
}

function mutate(base: Buffer): fc.Arbitrary<Buffer> {
  const op = fc.oneof(
    fc.tuple(fc.constant("flip" as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
    fc.tuple(fc.constant("insert" as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
    fc.tuple(fc.constant("delete" as const), fc.nat(), fc.constant(0)),
  );
  return fc.array(op, { minLength: 0, maxLength: 4 }).map((ops) => {
    const bytes = [...base];
    for (const [kind, at, value] of ops) {
      const i = bytes.length === 0 ? 0 : at % (bytes.length + (kind === "insert" ? 1 : 0));
      if (kind === "flip" && bytes.length > 0) bytes[i] = value;
      else if (kind === "insert") bytes.splice(i, 0, value);
      else if (kind === "delete" && bytes.length > 0) bytes.splice(i, 1);
    }
    return Buffer.from(bytes);
  });
}

/** `count` inputs for `method`, reproducible from `seed`. */
export function fuzzInputs(
  method: GenericMethod,
  context: FuzzContext,
  count: number,
  seed: number,
): FuzzInput[] {
  const body: fc.Arbitrary<{ body: Buffer; kind: FuzzInput["kind"] }> = fc.oneof(
    fc
      .uint8Array({ maxLength: 300 })
      .map((b) => ({ body: Buffer.from(b), kind: "random" as const })),
    fieldStream(3).map((b) => ({ body: Buffer.from(b), kind: "fields" as const })),
    fc
      .constant(null)
      .map(() => ({ body: Buffer.from(deeplyNested(200)), kind: "fields" as const })),
    mutate(validRequest(method, context)).map((b) => ({ body: b, kind: "mutated" as const })),
  );
  const input = fc.tuple(body, metadataArb(context)).map(([b, metadata]) => ({ ...b, metadata }));
  return fc.sample(input, { seed, numRuns: count });
}

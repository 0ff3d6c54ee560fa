/**
 * Decoding with strict UTF-8: generated `decode` over a `BinaryReader` whose UTF-8 decoding is
 * fatal, so a string field that is not valid UTF-8 is refused, as Python's protobuf refuses it,
 * instead of decoding to U+FFFD. ts-proto's generated code calls `reader.string()` without
 * `@bufbuild/protobuf`'s `strict` flag; the reader's UTF-8 hook is the one place to make it strict
 * without touching generated code. Servers decode every request with it
 * (`@flwr-ts/transport`'s `wire/strict-decode.ts`).
 */
import { BinaryReader } from "@bufbuild/protobuf/wire";

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Thrown by {@link decodeStrict} when a string field is not valid UTF-8. */
export class InvalidUtf8Error extends Error {
  constructor() {
    super("A string field is not valid UTF-8.");
    this.name = "InvalidUtf8Error";
  }
}

function strictUtf8(bytes: Uint8Array): string {
  try {
    return fatal.decode(bytes);
  } catch {
    throw new InvalidUtf8Error();
  }
}

/**
 * Decodes `bytes` with a generated codec (`decode(input: BinaryReader | Uint8Array)`), refusing
 * invalid UTF-8 in string fields.
 * @throws InvalidUtf8Error for invalid UTF-8; the codec's own errors for other malformed bytes.
 */
export function decodeStrict<T>(
  codec: { decode(input: BinaryReader | Uint8Array): T },
  bytes: Uint8Array,
): T {
  return codec.decode(new BinaryReader(bytes, strictUtf8));
}

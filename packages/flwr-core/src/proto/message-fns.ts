/**
 * Types describing the codec objects ts-proto generates for every message
 * (`Node`, `Message`, `PushMessagesRequest`, …). The generated files keep their
 * own copies private (`exportCommonSymbols=false`) so that the `export *` barrel
 * does not export 17 conflicting declarations; these are structurally identical,
 * so every generated codec is assignable to {@link MessageFns}.
 */
import type { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";

type Builtin =
  | Date
  | ((...args: never) => unknown)
  | Uint8Array
  | string
  | number
  | boolean
  | bigint
  | undefined;

/**
 * A partial, recursively optional message as accepted by `X.create()` and
 * `X.fromPartial()`; 64-bit integer fields also accept `number` and `string`.
 */
export type DeepPartial<T> = T extends bigint
  ? string | number | bigint
  : T extends Builtin
    ? T
    : T extends globalThis.Array<infer U>
      ? globalThis.Array<DeepPartial<U>>
      : T extends ReadonlyArray<infer U>
        ? ReadonlyArray<DeepPartial<U>>
        : T extends { $case: string; value: unknown }
          ? { $case: T["$case"]; value?: DeepPartial<T["value"]> }
          : T extends object
            ? { [K in keyof T]?: DeepPartial<T[K]> }
            : Partial<T>;

/** The codec of a generated message type `T` (e.g. `Node` satisfies `MessageFns<Node>`). */
export interface MessageFns<T> {
  /** Serializes `message` into `writer` (or a new one); call `.finish()` for the bytes. */
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  /** Parses a message from bytes or from `length` bytes of a reader; throws on malformed input. */
  decode(input: BinaryReader | Uint8Array, length?: number): T;
  /** Builds a message with defaults for every field not given in `base`. */
  create(base?: DeepPartial<T>): T;
  /** Same as {@link MessageFns.create}, with a required argument. */
  fromPartial(object: DeepPartial<T>): T;
}

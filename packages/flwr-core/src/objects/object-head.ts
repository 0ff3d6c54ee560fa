/**
 * Object heads. A serialized object is `HEAD 0x00 BODY` where HEAD is the UTF-8 text
 * `<type> <comma-joined child IDs> <decimal body length>` (two consecutive spaces when there are
 * no children), e.g. `ConfigRecord  37`.
 */
import {
  MalformedObjectHeadError,
  ObjectBodyLengthError,
  UnknownObjectTypeError,
} from "./errors.js";
import { isValidObjectId } from "./object-id.js";

/** The seven Flower object types. */
export const OBJECT_TYPES = [
  "Message",
  "RecordDict",
  "ArrayRecord",
  "Array",
  "ArrayChunk",
  "ConfigRecord",
  "MetricRecord",
] as const;

/** A Flower object type. */
export type ObjectType = (typeof OBJECT_TYPES)[number];

/** The decoded head of an object. */
export interface ObjectHead {
  /** Object type. */
  readonly type: ObjectType;
  /** Unique child object IDs in first-occurrence order. */
  readonly childIds: readonly string[];
  /** Body length in bytes. */
  readonly bodyLength: number;
}

/** Byte separating head and body. */
export const HEAD_BODY_DIVIDER = 0x00;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes `<type> <ids> <len>` followed by the NUL divider. */
export function encodeObjectHead(
  type: ObjectType,
  childIds: readonly string[],
  bodyLength: number,
): Uint8Array {
  const text = `${type} ${childIds.join(",")} ${bodyLength}`;
  const out = new Uint8Array(text.length + 1);
  textEncoder.encodeInto(text, out);
  out[text.length] = HEAD_BODY_DIVIDER;
  return out;
}

/**
 * Parses and validates an object's head (the checks of Python's `validate_object_content`).
 * @param content - complete object bytes.
 * @param objectId - ID used in error messages.
 * @returns the head and the body (a view of `content`).
 * @throws MalformedObjectHeadError, UnknownObjectTypeError, ObjectBodyLengthError.
 */
export function parseObject(
  content: Uint8Array,
  objectId = "",
): { head: ObjectHead; body: Uint8Array } {
  const end = content.indexOf(HEAD_BODY_DIVIDER);
  if (end < 0) throw new MalformedObjectHeadError(objectId, "no NUL byte separates head and body");
  let text: string;
  try {
    text = textDecoder.decode(content.subarray(0, end));
  } catch {
    throw new MalformedObjectHeadError(objectId, "head is not valid UTF-8");
  }
  const parts = text.split(" ");
  if (parts.length !== 3) {
    throw new MalformedObjectHeadError(
      objectId,
      `expected '<type> <child ids> <body length>' (3 space-separated parts), got ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  const [type, children, len] = parts as [string, string, string];
  if (!(OBJECT_TYPES as readonly string[]).includes(type))
    throw new UnknownObjectTypeError(objectId, type);
  const childIds = children === "" ? [] : children.split(",");
  for (const id of childIds) {
    if (!isValidObjectId(id)) {
      throw new MalformedObjectHeadError(
        objectId,
        `invalid child object ID ${JSON.stringify(id.slice(0, 80))}`,
      );
    }
  }
  if (new Set(childIds).size !== childIds.length) {
    throw new MalformedObjectHeadError(objectId, "child object IDs are repeated");
  }
  if (!/^\d{1,15}$/.test(len)) {
    throw new MalformedObjectHeadError(
      objectId,
      `body length ${JSON.stringify(len.slice(0, 40))} is not a decimal integer`,
    );
  }
  const bodyLength = Number(len);
  const body = content.subarray(end + 1);
  if (body.length !== bodyLength)
    throw new ObjectBodyLengthError(objectId, bodyLength, body.length);
  return { head: { type: type as ObjectType, childIds, bodyLength }, body };
}

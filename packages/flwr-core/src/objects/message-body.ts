/**
 * The body of a `Message` object: the proto `flwr.proto.Message` with `metadata` (its
 * `message_id` blanked) and `error` if any, but no `content` (the content is the Message
 * object's only child). Byte-identical to Python's `SerializeToString(deterministic=True)`.
 */
import { MessageError } from "../message/error.js";
import { Metadata } from "../message/metadata.js";
import {
  asInt64,
  expectWire,
  fixedToDouble,
  unzigzag,
  utf8,
  WireFormatError,
  WireReader,
} from "./wire-reader.js";
import { doubleIsSet, WireWriter } from "./wire-writer.js";

/** Encodes proto `Metadata` (implicit-presence fields omitted when default, as upb does). */
export function encodeMetadata(m: Metadata, blankMessageId: boolean): Uint8Array {
  const w = new WireWriter();
  if (m.runId !== 0n) w.tag(1, 0).varint(m.runId);
  const messageId = blankMessageId ? "" : m.messageId;
  if (messageId !== "") w.stringField(2, messageId);
  if (m.srcNodeId !== 0n) w.tag(3, 0).varint(m.srcNodeId);
  if (m.dstNodeId !== 0n) w.tag(4, 0).varint(m.dstNodeId);
  if (m.replyToMessageId !== "") w.stringField(5, m.replyToMessageId);
  if (m.groupId !== "") w.stringField(6, m.groupId);
  if (doubleIsSet(m.ttl)) w.tag(7, 1).double(m.ttl);
  if (m.messageType !== "") w.stringField(8, m.messageType);
  if (doubleIsSet(m.createdAt)) w.tag(9, 1).double(m.createdAt);
  return w.finish();
}

/** Encodes proto `Error`. */
export function encodeError(e: MessageError): Uint8Array {
  const w = new WireWriter();
  if (e.code !== 0n) w.tag(1, 0).sint64(e.code);
  if (e.reason !== undefined && e.reason !== "") w.stringField(2, e.reason);
  return w.finish();
}

/** The body of a Message object. */
export function encodeMessageBody(metadata: Metadata, error: MessageError | undefined): Uint8Array {
  const w = new WireWriter();
  w.lenField(1, encodeMetadata(metadata, true));
  if (error !== undefined) w.lenField(3, encodeError(error));
  return w.finish();
}

function decodeMetadata(bytes: Uint8Array): Metadata {
  const init = {
    runId: 0n,
    messageId: "",
    srcNodeId: 0n,
    dstNodeId: 0n,
    replyToMessageId: "",
    groupId: "",
    createdAt: 0,
    ttl: 0,
    messageType: "",
  };
  const r = new WireReader(bytes);
  while (!r.done) {
    const f = r.next();
    switch (f.field) {
      case 1:
        expectWire(f, 0, "run_id");
        init.runId = f.int;
        break;
      case 2:
        expectWire(f, 2, "message_id");
        init.messageId = utf8(f.bytes);
        break;
      case 3:
        expectWire(f, 0, "src_node_id");
        init.srcNodeId = f.int;
        break;
      case 4:
        expectWire(f, 0, "dst_node_id");
        init.dstNodeId = f.int;
        break;
      case 5:
        expectWire(f, 2, "reply_to_message_id");
        init.replyToMessageId = utf8(f.bytes);
        break;
      case 6:
        expectWire(f, 2, "group_id");
        init.groupId = utf8(f.bytes);
        break;
      case 7:
        expectWire(f, 1, "ttl");
        init.ttl = fixedToDouble(f.int);
        break;
      case 8:
        expectWire(f, 2, "message_type");
        init.messageType = utf8(f.bytes);
        break;
      case 9:
        expectWire(f, 1, "created_at");
        init.createdAt = fixedToDouble(f.int);
        break;
      default:
        break;
    }
  }
  return new Metadata(init);
}

function decodeError(bytes: Uint8Array): MessageError {
  let code = 0n;
  let reason = "";
  const r = new WireReader(bytes);
  while (!r.done) {
    const f = r.next();
    if (f.field === 1) {
      expectWire(f, 0, "error code");
      code = asInt64(unzigzag(f.int));
    } else if (f.field === 2) {
      expectWire(f, 2, "error reason");
      reason = utf8(f.bytes);
    }
  }
  return new MessageError(code, reason);
}

/**
 * Decodes a Message object body.
 * @returns the metadata and, when set, the error; `content` must come from the child object.
 * @throws WireFormatError for malformed bytes; MessageValidationError for invalid fields.
 */
export function decodeMessageBody(body: Uint8Array): {
  metadata: Metadata;
  error: MessageError | undefined;
  hasContentField: boolean;
} {
  let metadata: Uint8Array | undefined;
  let error: Uint8Array | undefined;
  let hasContentField = false;
  const r = new WireReader(body);
  while (!r.done) {
    const f = r.next();
    if (f.field === 1) {
      expectWire(f, 2, "metadata");
      metadata = f.bytes;
    } else if (f.field === 2) {
      hasContentField = true;
    } else if (f.field === 3) {
      expectWire(f, 2, "error");
      error = f.bytes;
    }
  }
  if (metadata === undefined) throw new WireFormatError("Message body has no metadata");
  return {
    metadata: decodeMetadata(metadata),
    error: error === undefined ? undefined : decodeError(error),
    hasContentField,
  };
}

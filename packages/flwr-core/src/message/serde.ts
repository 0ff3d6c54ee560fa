/**
 * Conversions between messages/contexts and the generated protobuf types (Python Flower's
 * `flwr.common.serde` message and context functions).
 */
import type * as pb from "../proto/index.js";
import {
  recordDictFromProto,
  recordDictToProto,
  scalarFromProto,
  scalarToProto,
} from "../records/serde.js";
import { Context, type UserConfig } from "./context.js";
import { MessageError } from "./error.js";
import { MessageValidationError } from "./errors.js";
import { Message } from "./message.js";
import { Metadata } from "./metadata.js";

/** Metadata → proto `Metadata`. */
export function metadataToProto(m: Metadata): pb.Metadata {
  return {
    runId: m.runId,
    messageId: m.messageId,
    srcNodeId: m.srcNodeId,
    dstNodeId: m.dstNodeId,
    replyToMessageId: m.replyToMessageId,
    groupId: m.groupId,
    ttl: m.ttl,
    messageType: m.messageType,
    createdAt: m.createdAt,
  };
}

/** Proto `Metadata` → Metadata (validates the message type). */
export function metadataFromProto(p: pb.Metadata): Metadata {
  return new Metadata({
    runId: p.runId,
    messageId: p.messageId,
    srcNodeId: p.srcNodeId,
    dstNodeId: p.dstNodeId,
    replyToMessageId: p.replyToMessageId,
    groupId: p.groupId,
    createdAt: p.createdAt,
    ttl: p.ttl,
    messageType: p.messageType,
  });
}

/** MessageError → proto `Error` (an absent reason becomes ""). */
export function errorToProto(e: MessageError): pb.Error {
  return { code: e.code, reason: e.reason ?? "" };
}

/** Proto `Error` → MessageError ("" reason becomes `undefined`). */
export function errorFromProto(p: pb.Error): MessageError {
  return new MessageError(p.code, p.reason);
}

/**
 * Message → proto `Message` with the content inline (used by `Context` storage and legacy
 * paths; over Fleet/ServerAppIo content travels as objects, see `deflateMessage`).
 */
export function messageToProto(m: Message): pb.Message {
  return {
    metadata: metadataToProto(m.metadata),
    content: m.hasContent() ? recordDictToProto(m.content) : undefined,
    error: m.hasError() ? errorToProto(m.error) : undefined,
  };
}

/**
 * Proto `Message` → Message.
 * @throws MessageValidationError when metadata is missing or not exactly one of content/error is set.
 */
export function messageFromProto(p: pb.Message): Message {
  if (p.metadata === undefined) throw new MessageValidationError("proto Message has no metadata");
  const metadata = metadataFromProto(p.metadata);
  if ((p.content === undefined) === (p.error === undefined)) {
    throw new MessageValidationError("proto Message must set exactly one of content and error");
  }
  return new Message(
    metadata,
    p.content !== undefined ? recordDictFromProto(p.content) : errorFromProto(p.error!),
  );
}

/** UserConfig → proto map (`bigint` → sint64 like Python; uint64 above 2^63-1). */
export function userConfigToProto(config: UserConfig): Map<string, pb.Scalar> {
  const out = new Map<string, pb.Scalar>();
  for (const [k, v] of Object.entries(config)) out.set(k, scalarToProto(v, k));
  return out;
}

/** Proto map → UserConfig (null-prototype object; integers → bigint). */
export function userConfigFromProto(map: ReadonlyMap<string, pb.Scalar>): UserConfig {
  const out: UserConfig = Object.create(null);
  for (const [k, v] of map) out[k] = scalarFromProto(v, k);
  return out;
}

/** Context → proto `Context`. */
export function contextToProto(c: Context): pb.Context {
  return {
    runId: c.runId,
    nodeId: c.nodeId,
    nodeConfig: userConfigToProto(c.nodeConfig),
    state: recordDictToProto(c.state),
    runConfig: userConfigToProto(c.runConfig),
    seriesId: 0n,
  };
}

/** Proto `Context` → Context (a missing state becomes an empty RecordDict). */
export function contextFromProto(p: pb.Context): Context {
  return new Context({
    runId: p.runId,
    nodeId: p.nodeId,
    nodeConfig: userConfigFromProto(p.nodeConfig),
    state: p.state === undefined ? undefined : recordDictFromProto(p.state),
    runConfig: userConfigFromProto(p.runConfig),
  });
}

/**
 * gRPC message-size limits, the same on every flwr-ts server and client: Flower's default for
 * both directions is `GRPC_MAX_MESSAGE_LENGTH` (2,147,483,647 bytes, `flwr/common/grpc.py`; it
 * has no flag). flwr-ts makes them configurable (`--grpc-max-receive-message-length`,
 * `--grpc-max-send-message-length` on flower-superlink and flower-supernode); grpc-js answers a
 * larger incoming message RESOURCE_EXHAUSTED as soon as its length prefix is read, before the
 * body is buffered or decoded, and a larger outgoing one fails the call with RESOURCE_EXHAUSTED.
 */
import type { ChannelOptions } from "@grpc/grpc-js";
import { z } from "zod";
import { GRPC_MAX_MESSAGE_LENGTH } from "./channel-options.js";

/** Largest message accepted and sent, bytes. */
export interface MessageLimits {
  readonly maxReceiveBytes: number;
  readonly maxSendBytes: number;
}

/** Flower's limits (2,147,483,647 bytes both ways). */
export const FLOWER_MESSAGE_LIMITS: MessageLimits = {
  maxReceiveBytes: GRPC_MAX_MESSAGE_LENGTH,
  maxSendBytes: GRPC_MAX_MESSAGE_LENGTH,
};

/** The flag value schema: a whole number of bytes from 1 to 2,147,483,647. */
export const messageLengthFlag = z
  .string()
  .regex(/^\d{1,10}$/, "must be a whole number of bytes, e.g. 536870912 (512 MiB)")
  .transform(Number)
  .refine(
    (n) => n >= 1 && n <= GRPC_MAX_MESSAGE_LENGTH,
    `must be from 1 to ${GRPC_MAX_MESSAGE_LENGTH} bytes (Flower's default)`,
  );

/** The grpc-js channel options of `limits` (for `new Server(…)` and clients). */
export function messageLimitOptions(limits: MessageLimits | undefined): ChannelOptions {
  const l = limits ?? FLOWER_MESSAGE_LIMITS;
  return {
    "grpc.max_receive_message_length": l.maxReceiveBytes,
    "grpc.max_send_message_length": l.maxSendBytes,
  };
}

/** Usage text of the two flags (flower-superlink and flower-supernode `--help`). */
export const MESSAGE_LIMIT_USAGE = `  --grpc-max-receive-message-length
                        flwr-ts: largest gRPC message accepted, bytes (default 2147483647,
                        Flower's GRPC_MAX_MESSAGE_LENGTH); larger ones are answered
                        RESOURCE_EXHAUSTED before they are read.
  --grpc-max-send-message-length
                        flwr-ts: largest gRPC message sent, bytes (default 2147483647).`;

import type { ChannelOptions } from "@grpc/grpc-js";

/** Flower's gRPC message size limit (2,147,483,647 bytes), both directions. */
export const GRPC_MAX_MESSAGE_LENGTH = 2_147_483_647;

/** Channel options Flower uses on both servers and clients. */
export const flowerChannelOptions: ChannelOptions = {
  "grpc.max_send_message_length": GRPC_MAX_MESSAGE_LENGTH,
  "grpc.max_receive_message_length": GRPC_MAX_MESSAGE_LENGTH,
  "grpc.keepalive_time_ms": 210_000,
  "grpc.http2.max_pings_without_data": 0,
};

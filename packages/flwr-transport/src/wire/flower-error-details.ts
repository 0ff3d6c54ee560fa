/**
 * Flower's coded errors as they arrive in a gRPC status's details text: Flower 1.37+'s gRPC
 * servers (1.39's gRPC Fleet, 1.42's internal gRPC Control) send a `FlowerError` as JSON where
 * 1.29 sent a plain sentence. One parser for every client (the `flwr` CLI, the SuperNode), so
 * neither shows the raw JSON.
 */

/**
 * Flower 1.37+'s gRPC servers (1.42's internal gRPC Control, `FLWR_INTERNAL_GRPC_CONTROL_API=1`)
 * put a `FlowerError` as JSON in the status details:
 * `{"code": 23, "public_message": "Public key already in use.", "public_details": null}`.
 * @returns its API error code and text, or undefined for plain details.
 */
export function parseGrpcFlowerError(
  details: string | undefined,
): { code: number; details: string } | undefined {
  if (!details?.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(details) as {
      code?: unknown;
      public_message?: unknown;
      public_details?: unknown;
    };
    if (typeof v.code !== "number" || typeof v.public_message !== "string") return undefined;
    const extra =
      typeof v.public_details === "string" && v.public_details ? ` ${v.public_details}` : "";
    return { code: v.code, details: `${v.public_message}${extra}` };
  } catch {
    return undefined;
  }
}

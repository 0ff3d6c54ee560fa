/**
 * Length caps for text a caller sent that goes back out in an error message: each echoed string
 * is cut to {@link MAX_ECHOED_CHARS} characters with an ellipsis ({@link untrusted}, used where
 * handlers quote request fields), and both server adapters cap whole status details at
 * {@link MAX_STATUS_DETAILS_CHARS} ({@link capStatusDetails}), so no request can push a status
 * past grpcio's 8 KB metadata limit (issue #12, finding 2c iii).
 */

/** Longest request string quoted in an error message, in characters. */
export const MAX_ECHOED_CHARS = 200;

/** Longest status details (gRPC `grpc-message`, HTTP error `detail`/`extra`), in characters. */
export const MAX_STATUS_DETAILS_CHARS = 2048;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** `value` as it may appear in an error message: at most {@link MAX_ECHOED_CHARS} characters. */
export function untrusted(value: string): string {
  return cut(value, MAX_ECHOED_CHARS);
}

/** Status details cut to {@link MAX_STATUS_DETAILS_CHARS} characters. */
export function capStatusDetails(details: string): string {
  return cut(details, MAX_STATUS_DETAILS_CHARS);
}

/**
 * Status codes of a failed call, independent of the wire. The numbers are gRPC's (so a grpc-js
 * `status` value is a {@link Code} and back); the HTTP adapter maps them to HTTP statuses
 * (`http/http-status.ts`).
 */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** One of {@link Code}'s values. */
export type Code = (typeof Code)[keyof typeof Code];

const NAMES = new Map<number, string>(Object.entries(Code).map(([name, value]) => [value, name]));

/** `UNAUTHENTICATED` for 16; `CODE_<n>` for numbers outside the table. */
export function codeName(code: number): string {
  return NAMES.get(code) ?? `CODE_${code}`;
}

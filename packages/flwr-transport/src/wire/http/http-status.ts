/**
 * Status codes ↔ HTTP statuses, as Flower 1.42's error catalog pairs them
 * (`flwr/supercore/error/catalog.py`: FAILED_PRECONDITION ↔ 412, PERMISSION_DENIED ↔ 403, …).
 */
import { Code } from "../code.js";

const TO_HTTP: Record<number, number> = {
  [Code.CANCELLED]: 499,
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.DEADLINE_EXCEEDED]: 504,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.RESOURCE_EXHAUSTED]: 429,
  [Code.FAILED_PRECONDITION]: 412,
  [Code.ABORTED]: 409,
  [Code.OUT_OF_RANGE]: 400,
  [Code.UNIMPLEMENTED]: 501,
  [Code.INTERNAL]: 500,
  [Code.UNAVAILABLE]: 503,
  [Code.DATA_LOSS]: 500,
  [Code.UNAUTHENTICATED]: 401,
};

/** The HTTP status a failed call with `code` is answered with. */
export function httpStatusOf(code: Code): number {
  return TO_HTTP[code] ?? 500;
}

/** The status code a client reports for an HTTP error status. */
export function codeOfHttpStatus(httpStatus: number): Code {
  switch (httpStatus) {
    case 400:
    case 415:
    case 422:
      return Code.INVALID_ARGUMENT;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.NOT_FOUND;
    case 405:
      return Code.UNIMPLEMENTED;
    case 408:
    case 504:
      return Code.DEADLINE_EXCEEDED;
    case 409:
      return Code.ALREADY_EXISTS;
    case 412:
      return Code.FAILED_PRECONDITION;
    case 413:
    case 429:
    case 431:
      return Code.RESOURCE_EXHAUSTED;
    case 499:
      return Code.CANCELLED;
    case 501:
      return Code.UNIMPLEMENTED;
    case 502:
    case 503:
      return Code.UNAVAILABLE;
    default:
      return httpStatus >= 500 ? Code.INTERNAL : Code.UNKNOWN;
  }
}

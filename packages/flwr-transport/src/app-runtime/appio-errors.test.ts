/** Which AppIo errors end an app process in an expected way (one line) and which are bugs. */
import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { expectedAppIoEnd, RunNotRunningError, translateAppIoError } from "./appio-errors.js";

function serviceError(code: status, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

describe("expectedAppIoEnd", () => {
  test("UNAVAILABLE and CANCELLED: the AppIo API went away, one line naming it", () => {
    for (const [code, name] of [
      [status.UNAVAILABLE, "UNAVAILABLE"],
      [status.CANCELLED, "CANCELLED"],
    ] as const) {
      const line = expectedAppIoEnd(serviceError(code, "Connection dropped"), "127.0.0.1:9094");
      expect(line).toBe(
        `the AppIo API at 127.0.0.1:9094 went away (${code} ${name}: Connection dropped); its SuperNode or SuperLink stopped. Exiting.`,
      );
      expect(line).not.toContain("\n");
    }
  });

  test("a run that is not running any more", () => {
    const e = translateAppIoError(serviceError(status.PERMISSION_DENIED, "Run is finished."));
    expect(e).toBeInstanceOf(RunNotRunningError);
    expect(expectedAppIoEnd(e, "a:1")).toBe("The run is not running: Run is finished; exiting.");
  });

  test("anything else is not expected (it keeps its stack trace)", () => {
    expect(expectedAppIoEnd(new TypeError("x is undefined"), "a:1")).toBeUndefined();
    expect(expectedAppIoEnd(serviceError(status.INTERNAL, "boom"), "a:1")).toBeUndefined();
  });
});

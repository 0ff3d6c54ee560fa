/**
 * Regression tests of issue #12 finding 2c (iii): strings from a request are echoed in error
 * messages at most {@link MAX_ECHOED_CHARS} characters long (with an ellipsis), and no status
 * details exceed {@link MAX_STATUS_DETAILS_CHARS}, so a 10 KB string cannot push a status past
 * grpcio's 8 KB metadata limit (Python clients then fail with RESOURCE_EXHAUSTED).
 */
import { StartRunRequest } from "@flwr-ts/core/proto";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSuperLink, type TestSuperLink } from "../../test/superlink-test-kit.js";
import {
  capStatusDetails,
  MAX_ECHOED_CHARS,
  MAX_STATUS_DETAILS_CHARS,
  untrusted,
} from "./untrusted-text.js";

let kit: TestSuperLink;
beforeAll(async () => {
  kit = await startTestSuperLink({ runs: true });
});
afterAll(() => kit.stop());

describe("echoed strings", () => {
  it("caps a string and marks the cut", () => {
    expect(untrusted("short")).toBe("short");
    const long = untrusted("x".repeat(10_000));
    expect(long).toHaveLength(MAX_ECHOED_CHARS + 1);
    expect(long.endsWith("…")).toBe(true);
    expect(capStatusDetails("y".repeat(20_000)).length).toBeLessThanOrEqual(
      MAX_STATUS_DETAILS_CHARS + 1,
    );
  });

  it("StartRun echoes a 10 KB app_spec capped, on gRPC and HTTP", async () => {
    const request = StartRunRequest.fromPartial({ appSpec: "a".repeat(10_000) });
    const error = (await kit
      .control()
      .startRun(request)
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { code: number; details: string };
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toContain(`${"a".repeat(MAX_ECHOED_CHARS)}…`);
    expect(error.details.length).toBeLessThan(MAX_ECHOED_CHARS + 200);
    const answer = await kit.httpPost(
      "/v1/control/start-run",
      StartRunRequest.encode(request).finish(),
    );
    expect(answer.body.length).toBeLessThan(MAX_ECHOED_CHARS + 400);
  });
});

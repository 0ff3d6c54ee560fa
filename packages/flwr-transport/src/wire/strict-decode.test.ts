/**
 * Regression tests of issue #12 finding 2c (ii) on a real SuperLink (TLS, 127.0.0.1): a request
 * whose string field is not valid UTF-8 is refused at decode — INVALID_ARGUMENT on gRPC, 400 on
 * HTTP — instead of reaching the handler with U+FFFD in it (Python's protobuf refuses it too).
 */
import { StartRunRequest } from "@flwr-ts/core/proto";
import { makeGenericClientConstructor, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSuperLink, type TestSuperLink } from "../../test/superlink-test-kit.js";

let kit: TestSuperLink;
beforeAll(async () => {
  kit = await startTestSuperLink({ runs: true });
});
afterAll(() => kit.stop());

/** A StartRunRequest whose `app_spec` holds `bytes` (0xC3 0x28 is not UTF-8). */
function startRunWithAppSpec(bytes: number[]): Buffer {
  const encoded = Buffer.from(
    StartRunRequest.encode(StartRunRequest.fromPartial({ appSpec: "zz" })).finish(),
  );
  const at = encoded.indexOf("zz");
  return Buffer.concat([encoded.subarray(0, at), Buffer.from(bytes), encoded.subarray(at + 2)]);
}

/** One unary call with raw request bytes. */
function rawCall(
  port: number,
  path: string,
  body: Buffer,
): Promise<{ code: number; details: string }> {
  const identity = (b: Buffer) => b;
  const Client = makeGenericClientConstructor(
    {
      call: {
        path,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    "Raw",
  );
  const client = new Client(`127.0.0.1:${port}`, kit.credentials(), {
    "grpc.ssl_target_name_override": "localhost",
  }) as unknown as {
    call(body: Buffer, cb: (e: { code: number; details: string } | null) => void): void;
    close(): void;
  };
  return new Promise((resolve) =>
    client.call(body, (error) => {
      client.close();
      resolve(error ?? { code: status.OK, details: "" });
    }),
  );
}

describe("strict UTF-8 at decode", () => {
  it("refuses invalid UTF-8 in a string field with INVALID_ARGUMENT on gRPC", async () => {
    const answer = await rawCall(
      kit.superlink.ports.controlPort,
      "/flwr.proto.Control/StartRun",
      startRunWithAppSpec([0xc3, 0x28]),
    );
    expect(answer.code).toBe(status.INVALID_ARGUMENT);
    expect(answer.details).not.toContain("\ufffd");
  });

  it("still takes valid UTF-8 (the handler answers)", async () => {
    const answer = await rawCall(
      kit.superlink.ports.controlPort,
      "/flwr.proto.Control/StartRun",
      startRunWithAppSpec([0xc3, 0xa9]),
    );
    expect(answer.code).toBe(status.FAILED_PRECONDITION);
    expect(answer.details).toContain("é");
  });

  it("refuses invalid UTF-8 with 400 on HTTP", async () => {
    const answer = await kit.httpPost("/v1/control/start-run", startRunWithAppSpec([0xc3, 0x28]));
    expect(answer.status).toBe(400);
    expect(answer.body.toString("utf8")).not.toContain("\ufffd");
  });
});

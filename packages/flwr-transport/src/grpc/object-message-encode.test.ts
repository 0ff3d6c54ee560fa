/** The single-copy object serializers write exactly ts-proto's bytes. */
import { randomBytes } from "node:crypto";
import { FleetDefinition, PullObjectResponse, PushObjectRequest } from "@flwr-ts/core/proto";
import { describe, expect, it } from "vitest";
import {
  asBufferView,
  encodePullObjectResponse,
  encodePushObjectRequest,
} from "./object-message-encode.js";
import { toGrpcServiceDefinition } from "./service-definition.js";

const id = "a".repeat(64);
const sizes = [0, 1, 127, 128, 16_383, 16_384, 5 * 1024 * 1024 + 3];

describe("single-copy object serializers", () => {
  it.each(sizes)("PushObjectRequest with %i content bytes equals ts-proto's encoding", (n) => {
    const content = randomBytes(n);
    for (const m of [
      {
        node: { nodeId: 7n },
        runId: 12345678901234n,
        objectId: id,
        objectContent: content,
        sessionId: "",
      },
      { node: undefined, runId: 0n, objectId: "", objectContent: content, sessionId: "s-1" },
      { node: { nodeId: 0n }, runId: 1n, objectId: id, objectContent: content, sessionId: "sess" },
    ]) {
      const ours = encodePushObjectRequest(m);
      expect(Buffer.compare(ours, Buffer.from(PushObjectRequest.encode(m).finish()))).toBe(0);
      const back = PushObjectRequest.decode(ours);
      expect(Buffer.compare(back.objectContent, content)).toBe(0);
      expect({ ...back, objectContent: 0 }).toEqual({ ...m, objectContent: 0 });
    }
  });

  it.each(sizes)("PullObjectResponse with %i content bytes equals ts-proto's encoding", (n) => {
    const content = randomBytes(n);
    for (const [found, available] of [
      [true, true],
      [true, false],
      [false, false],
    ] as const) {
      const m = { objectFound: found, objectAvailable: available, objectContent: content };
      const ours = encodePullObjectResponse(m);
      expect(Buffer.compare(ours, Buffer.from(PullObjectResponse.encode(m).finish()))).toBe(0);
    }
  });

  it("wraps a Uint8Array without copying it", () => {
    const bytes = new Uint8Array(16);
    const view = asBufferView(bytes.subarray(4, 12));
    view[0] = 9;
    expect(bytes[4]).toBe(9);
    expect(view.length).toBe(8);
  });

  it("the Fleet definition uses them for PushObject and PullObject", () => {
    const fleet = toGrpcServiceDefinition(FleetDefinition);
    const push = {
      node: undefined,
      runId: 3n,
      objectId: id,
      objectContent: randomBytes(300),
      sessionId: "",
    };
    expect(
      Buffer.compare(
        fleet.pushObject!.requestSerialize(push),
        Buffer.from(PushObjectRequest.encode(push).finish()),
      ),
    ).toBe(0);
    const pull = { objectFound: true, objectAvailable: true, objectContent: randomBytes(300) };
    expect(
      Buffer.compare(
        fleet.pullObject!.responseSerialize(pull),
        Buffer.from(PullObjectResponse.encode(pull).finish()),
      ),
    ).toBe(0);
  });
});

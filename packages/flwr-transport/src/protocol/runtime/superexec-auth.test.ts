import { AcquireTaskRequest } from "@flwr-ts/core/proto/runtime";
import { describe, expect, it } from "vitest";
import {
  deriveAuthSecret,
  SUPEREXEC_AUTH_HEADERS,
  superExecAuthHeaders,
  superExecSignature,
} from "./superexec-auth.js";

// Expected values computed with flwr 1.42.0's flwr.supercore.auth.superexec
// (derive_auth_secret, compute_request_body_sha256, compute_superexec_signature).
const BODY_HEX = "0a0e666c77722d636c69656e74617070";
const BODY_SHA256 = "61e5fa7d728778547a32e8472bbe60079bbf4ce48bc6885efa93f22b840be234";
const SIGNATURE = "be9ee0b481933b5a29d0d28de3b2b685d8651c2419bdaa4b6fe2caa0bf12332e";
const METHOD = "/flwr.proto.Runtime/AcquireTask";

describe("SuperExec auth (flwr 1.42)", () => {
  const secret = deriveAuthSecret(Buffer.from("top secret\n"));
  const body = AcquireTaskRequest.encode({
    supportedTaskTypes: ["flwr-clientapp"],
    agentappFabHashes: [],
  }).finish();

  it("serializes AcquireTask as Python's deterministic form", () => {
    expect(Buffer.from(body).toString("hex")).toBe(BODY_HEX);
  });

  it("signs like Python", () => {
    expect(
      superExecSignature(secret, {
        method: METHOD,
        timestamp: 1_700_000_000,
        nonce: "00112233445566778899aabbccddeeff",
        bodySha256: BODY_SHA256,
      }),
    ).toBe(SIGNATURE);
  });

  it("builds the four headers with a fresh nonce", () => {
    const a = superExecAuthHeaders(secret, METHOD, body, () => 1_700_000_000_999);
    const b = superExecAuthHeaders(secret, METHOD, body, () => 1_700_000_000_999);
    expect(a[SUPEREXEC_AUTH_HEADERS.timestamp]).toBe("1700000000");
    expect(a[SUPEREXEC_AUTH_HEADERS.bodySha256]).toBe(BODY_SHA256);
    expect(a[SUPEREXEC_AUTH_HEADERS.nonce]).toMatch(/^[0-9a-f]{32}$/);
    expect(a[SUPEREXEC_AUTH_HEADERS.nonce]).not.toBe(b[SUPEREXEC_AUTH_HEADERS.nonce]);
    expect(a[SUPEREXEC_AUTH_HEADERS.signature]).toBe(
      superExecSignature(secret, {
        method: METHOD,
        timestamp: 1_700_000_000,
        nonce: a[SUPEREXEC_AUTH_HEADERS.nonce]!,
        bodySha256: BODY_SHA256,
      }),
    );
  });
});

import type { FederationConfig } from "@flwr-ts/core";
import { describe, expect, test } from "vitest";
import { Code } from "../wire/code.js";
import { parseGrpcFlowerError } from "../wire/flower-error-details.js";
import { RpcError } from "../wire/rpc-error.js";
import { WireMismatchError } from "../wire/wire-probe.js";
import { connectControl, controlErrorToCliError } from "./control-client.js";

const fed = (init: Partial<FederationConfig> = {}): FederationConfig => ({
  name: "f",
  address: "127.0.0.1:8000",
  transport: "grpc",
  rootCertificates: "/ca.crt",
  insecure: false,
  source: "package.json",
  file: "/app/package.json",
  ...init,
});

describe("controlErrorToCliError", () => {
  test("Flower 1.37+'s JSON FlowerError in gRPC details", () => {
    expect(
      parseGrpcFlowerError(
        '{"code": 23, "public_message": "Public key already in use.", "public_details": null}',
      ),
    ).toEqual({ code: 23, details: "Public key already in use." });
    expect(
      parseGrpcFlowerError('{"code": 45, "public_message": "Bad.", "public_details": "x"}'),
    ).toEqual({ code: 45, details: "Bad. x" });
    expect(parseGrpcFlowerError("Public key already in use")).toBeUndefined();
    expect(parseGrpcFlowerError("{not json")).toBeUndefined();
  });

  test("the same line for 1.29's gRPC text, 1.42's HTTP code and 1.42's gRPC JSON", () => {
    const line = "The provided public key is already in use by another SuperNode.";
    const errors = [
      new RpcError(Code.FAILED_PRECONDITION, "Public key already in use"),
      new RpcError(Code.FAILED_PRECONDITION, "Public key already in use.", { apiErrorCode: 23 }),
      new RpcError(
        Code.FAILED_PRECONDITION,
        '{"code": 23, "public_message": "Public key already in use.", "public_details": null}',
      ),
    ];
    for (const e of errors) expect(controlErrorToCliError(e, fed()).message).toBe(line);
    expect(
      controlErrorToCliError(new RpcError(Code.NOT_FOUND, "x", { apiErrorCode: 24 }), fed())
        .message,
    ).toBe("Node ID not found for this account.");
  });

  test("wire mismatches name the fix in the entry's syntax", () => {
    const toHttp = new WireMismatchError("127.0.0.1:8000", "http", "it answers HTTP/1.1");
    expect(controlErrorToCliError(toHttp, fed()).message).toBe(
      "The SuperLink at 127.0.0.1:8000 speaks Flower's HTTP Control API (Flower 1.37+, flwr-ts --port), " +
        `not gRPC: set "address": "https://127.0.0.1:8000" (or add "transport": "http") in federation 'f' in /app/package.json.`,
    );
    const toGrpc = new WireMismatchError("https://127.0.0.1:9093", "grpc", "it answers HTTP/2");
    const conn = fed({
      transport: "http",
      address: "127.0.0.1:9093",
      source: "config.toml",
      file: "/h/config.toml",
    });
    expect(controlErrorToCliError(toGrpc, conn).message).toMatch(
      /^The SuperLink at https:\/\/127\.0\.0\.1:9093 speaks gRPC Control .*: add transport = "grpc" to SuperLink connection 'f' in \/h\/config\.toml/,
    );
  });

  test("a refused operator check names the federation; missing operator files say which key", () => {
    const refused = new RpcError(
      Code.UNAUTHENTICATED,
      "Control API calls need operator authentication on this SuperLink: present …",
    );
    expect(controlErrorToCliError(refused, fed()).message).toBe(
      "The SuperLink at 127.0.0.1:8000 refused the call: Control API calls need operator " +
        "authentication on this SuperLink: present …. Set them in federation 'f' in /app/package.json.",
    );
    expect(() =>
      connectControl(fed({ operatorCertificate: "/nope.pem", operatorKey: "/nope.key" })),
    ).toThrow(
      /Operator file '\/nope.pem' does not exist. Check "operator-certificate" of federation 'f'/,
    );
    expect(() => connectControl(fed({ operatorTokenFile: "/nope-token" }))).toThrow(
      /Operator token file \(operator-token-file of federation 'f' in \/app\/package.json\) '\/nope-token' does not exist/,
    );
  });
});

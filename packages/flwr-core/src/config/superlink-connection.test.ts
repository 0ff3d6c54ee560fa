import { describe, expect, test } from "vitest";
import { resolveSuperLinkConnection } from "./superlink-connection.js";

const FILE = "/home/u/.flwr/config.toml";

function error(result: ReturnType<typeof resolveSuperLinkConnection>) {
  if (result.ok) throw new Error("expected an error");
  return result.error;
}

/** The file Flower 1.42's CLI writes when it migrates the seed's federation, plus extras. */
const CONFIG = `
[superlink]
default = "my-federation"

[superlink.supergrid]
address = "api.flower.ai"

[superlink.local]
address = ":local:"

[superlink.my-federation]
address = "127.0.0.1:8000"
root-certificates = "/apps/auth/certificates/ca.crt"

[superlink.plain]
address = "127.0.0.1:8000"
insecure = true
federation = "@acme/prod"

[superlink.old]
address = "127.0.0.1:9093"
transport = "grpc"
root-certificates = "/ca.crt"

[superlink.sim]
address = "h:1"
options.num-supernodes = 10
`;

describe("resolveSuperLinkConnection", () => {
  test("Flower 1.42's connection: HTTP over TLS by default", () => {
    expect(resolveSuperLinkConnection(CONFIG, FILE, "my-federation")).toEqual({
      ok: true,
      federation: {
        name: "my-federation",
        address: "127.0.0.1:8000",
        transport: "http",
        rootCertificates: "/apps/auth/certificates/ca.crt",
        insecure: false,
        source: "config.toml",
        file: FILE,
        flowerFederation: undefined,
      },
    });
  });

  test("the default connection; insecure; federation; transport = grpc; options ignored", () => {
    const d = resolveSuperLinkConnection(CONFIG, FILE);
    expect(d.ok && d.federation.name).toBe("my-federation");
    const plain = resolveSuperLinkConnection(CONFIG, FILE, "plain");
    expect(plain.ok && plain.federation).toMatchObject({
      transport: "http",
      insecure: true,
      flowerFederation: "@acme/prod",
    });
    const old = resolveSuperLinkConnection(CONFIG, FILE, "old");
    expect(old.ok && old.federation).toMatchObject({
      transport: "grpc",
      address: "127.0.0.1:9093",
    });
    const sim = resolveSuperLinkConnection(CONFIG, FILE, "sim");
    expect(sim.ok && sim.federation.address).toBe("h:1");
    // Flower 1.29's local simulation SuperLink, which `flwr` starts on 127.0.0.1:39093.
    const local = resolveSuperLinkConnection(CONFIG, FILE, "local");
    expect(local.ok && [local.federation.address, local.federation.localSuperLink]).toEqual([
      "127.0.0.1:39093",
      "database",
    ]);
    const grid = resolveSuperLinkConnection(CONFIG, FILE, "supergrid");
    expect(grid.ok && grid.federation.address).toBe("api.flower.ai:443");
  });

  test("errors name the file and what to fix", () => {
    expect(
      error(
        resolveSuperLinkConnection(
          '[superlink.local]\naddress = ":local:"\noptions.num-supernodes = 0\n',
          FILE,
          "local",
        ),
      ).message,
    ).toContain("'num-supernodes' must be a positive integer");
    const unknown = error(resolveSuperLinkConnection(CONFIG, FILE, "nope"));
    expect(unknown.code).toBe("unknown-federation");
    expect(unknown.message).toMatch(
      /^SuperLink connection 'nope' is not defined in \/home\/u\/\.flwr\/config\.toml; defined: 'supergrid', 'local', 'my-federation'/,
    );
    expect(error(resolveSuperLinkConnection("x = 1", FILE)).code).toBe("missing-section");
    expect(error(resolveSuperLinkConnection("[superlink.a]\naddress='h:1'", FILE)).code).toBe(
      "no-default",
    );
    expect(error(resolveSuperLinkConnection("[superlink", FILE)).message).toMatch(
      /config\.toml is not valid TOML/,
    );
  });

  test.each([
    ["address = 1", "'address' must be a string"],
    ["address = 'h:1'\ninsecure = 'yes'", "'insecure' must be true or false"],
    [
      "address = 'h:1'\nroot-certificates = 'ca.crt'",
      "must be an absolute path, got relative path 'ca.crt'",
    ],
    ["address = 'h:1'\ntransport = 'h2'", `'transport' must be "grpc" or "http"`],
    ["address = 'h:1'\ninsecure = true\nroot-certificates = '/ca.crt'", "sets both"],
    ["address = 'https://h:1'\ntransport = 'grpc'", `'transport' is "grpc"`],
    ["address = 'h'\ntransport = 'grpc'", "gRPC needs the port"],
    ["root-certificates = '/ca.crt'", "'address' is required"],
  ])("invalid connection %j", (body, message) => {
    const e = error(resolveSuperLinkConnection(`[superlink.c]\n${body}\n`, FILE, "c"));
    expect(e.code).toBe("invalid");
    expect(e.message).toMatch(/^SuperLink connection 'c' in \/home\/u\/\.flwr\/config\.toml/);
    expect(e.message).toContain(message);
  });
});

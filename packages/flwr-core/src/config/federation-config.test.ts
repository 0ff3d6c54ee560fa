import { describe, expect, test } from "vitest";
import { resolveFederation } from "./federation-config.js";

const app = (federations: unknown) => ({ name: "authexample", flwr: { app: {}, federations } });

function error(result: ReturnType<typeof resolveFederation>) {
  if (result.ok) throw new Error("expected an error");
  return result.error;
}

describe("resolveFederation", () => {
  test("the seed's federation, with root certificates resolved against the app dir", () => {
    const r = resolveFederation(
      app({
        default: "my-federation",
        "my-federation": { address: "127.0.0.1:9093", "root-certificates": "certificates/ca.crt" },
      }),
      "/apps/auth",
      "my-federation",
    );
    expect(r).toEqual({
      ok: true,
      federation: {
        name: "my-federation",
        address: "127.0.0.1:9093",
        transport: "grpc",
        rootCertificates: "/apps/auth/certificates/ca.crt",
        insecure: false,
        source: "package.json",
        file: "/apps/auth/package.json",
      },
    });
  });

  test("the default federation is used when none is named; absolute paths stay", () => {
    const r = resolveFederation(
      app({ default: "b", a: { address: "h:1" }, b: { address: "[::1]:9093", insecure: true } }),
      "/x",
    );
    expect(r.ok && r.federation).toMatchObject({
      name: "b",
      address: "[::1]:9093",
      insecure: true,
    });
    const abs = resolveFederation(
      app({ f: { address: "localhost:9093", "root-certificates": "/etc/ca.crt" } }),
      "/x",
      "f",
    );
    expect(abs.ok && abs.federation.rootCertificates).toBe("/etc/ca.crt");
  });

  test("no flwr section / no federations", () => {
    for (const pkg of [{}, { flwr: {} }, { flwr: { federations: 3 } }, null, "x"]) {
      const e = error(resolveFederation(pkg, "/app", "f"));
      expect(e.code).toBe("missing-section");
      expect(e.message).toContain('"flwr": { "federations"');
    }
  });

  test("no default and no name", () => {
    const e = error(resolveFederation(app({ a: { address: "h:1" } }), "/app"));
    expect(e.code).toBe("no-default");
  });

  test("unknown federation lists the defined ones; 'default' is not a federation", () => {
    const e = error(resolveFederation(app({ default: "a", a: { address: "h:1" } }), "/app", "b"));
    expect(e.code).toBe("unknown-federation");
    expect(e.message).toBe(
      `Federation 'b' is not defined in package.json "flwr.federations"; defined: 'a'`,
    );
    expect(error(resolveFederation(app({ default: "a" }), "/app", "default")).code).toBe(
      "unknown-federation",
    );
    expect(
      error(resolveFederation(app({ constructor: { address: "h:1" } }), "/a", "toString")).code,
    ).toBe("unknown-federation");
  });

  test("both root-certificates and insecure is an error", () => {
    const e = error(
      resolveFederation(
        app({ f: { address: "h:1", insecure: true, "root-certificates": "ca.crt" } }),
        "/a",
        "f",
      ),
    );
    expect(e.code).toBe("invalid");
    expect(e.message).toContain("sets both 'root-certificates' and 'insecure = true'");
  });

  test.each([
    [{}, "Federation 'f': 'address' is required"],
    [{ address: 9093 }, "'address' must be a string"],
    [{ address: "127.0.0.1" }, "'address' must be host:port"],
    [{ address: "h:70000" }, "port must be 1-65535"],
    [{ address: "h:1", insecure: "yes" }, "'insecure' must be true or false"],
    [{ address: "h:1", "root-certificates": "" }, "'root-certificates' must not be empty"],
    [{ address: "h:1", "root-certificate": "ca.crt" }, "unknown key(s) 'root-certificate'"],
    ["h:1", "Federation 'f'"],
    [{ address: "h:1", transport: "https" }, `'transport' must be "grpc" or "http"`],
    [{ address: "h:1", transport: 1 }, `'transport' must be "grpc" or "http"`],
    [{ address: "" }, "'address' must not be empty"],
    [{ address: "https://h:8000", transport: "grpc" }, `'transport' is "grpc" but 'address'`],
    [{ address: "http://h:8000", "root-certificates": "ca.crt" }, "is plaintext HTTP but"],
    [{ address: "http://h:8000", insecure: false }, "'insecure' is false but"],
    [{ address: "https://h:8000", insecure: true }, "'insecure' is true but"],
    [{ address: "https://h:8000/v1" }, "only http:// and https:// URLs without a path"],
    [{ address: "grpc://h:9093" }, "only http:// and https:// URLs"],
    [{ address: "https://h:0" }, "port must be 1-65535"],
    [{ address: "h", transport: "grpc" }, "gRPC needs the port"],
    [
      { address: "h:1", protocol: "http" },
      "allowed keys are 'address', 'root-certificates', 'insecure', 'transport', 'operator-certificate'",
    ],
  ])("invalid entry %j", (entry, message) => {
    const e = error(resolveFederation(app({ f: entry }), "/a", "f"));
    expect(e.code).toBe("invalid");
    expect(e.message).toContain(message);
  });

  test.each([
    // [entry, transport, address, insecure]
    [{ address: "127.0.0.1:9093" }, "grpc", "127.0.0.1:9093", false],
    [
      { address: "127.0.0.1:9093", transport: "grpc", insecure: true },
      "grpc",
      "127.0.0.1:9093",
      true,
    ],
    [{ address: "https://127.0.0.1:8000" }, "http", "127.0.0.1:8000", false],
    [{ address: "HTTPS://127.0.0.1:8000/" }, "http", "127.0.0.1:8000", false],
    [{ address: "http://[::1]:8000" }, "http", "[::1]:8000", true],
    [{ address: "http://h:8000", insecure: true }, "http", "h:8000", true],
    [{ address: "https://superlink.example.org" }, "http", "superlink.example.org:443", false],
    [{ address: "http://superlink" }, "http", "superlink:80", true],
    [{ address: "127.0.0.1:8000", transport: "http" }, "http", "127.0.0.1:8000", false],
    [
      { address: "127.0.0.1:8000", transport: "http", insecure: true },
      "http",
      "127.0.0.1:8000",
      true,
    ],
    [{ address: "h", transport: "http" }, "http", "h:443", false],
  ])("Control wire of %j", (entry, transport, address, insecure) => {
    const r = resolveFederation(app({ f: entry }), "/a", "f");
    expect(r.ok && r.federation).toMatchObject({ transport, address, insecure });
  });

  test("https:// with root certificates keeps them", () => {
    const r = resolveFederation(
      app({ f: { address: "https://127.0.0.1:8000", "root-certificates": "c/ca.crt" } }),
      "/a",
      "f",
    );
    expect(r.ok && r.federation).toMatchObject({
      transport: "http",
      insecure: false,
      rootCertificates: "/a/c/ca.crt",
    });
  });

  test("operator credentials resolve against the app dir; a lone certificate or plaintext is refused", () => {
    const r = resolveFederation(
      app({
        f: {
          address: "127.0.0.1:9093",
          "root-certificates": "c/ca.crt",
          "operator-certificate": "c/operator-alice.pem",
          "operator-key": "/abs/operator-alice.key",
          "operator-token-file": "control-token",
        },
      }),
      "/a",
      "f",
    );
    expect(r.ok && r.federation).toMatchObject({
      operatorCertificate: "/a/c/operator-alice.pem",
      operatorKey: "/abs/operator-alice.key",
      operatorTokenFile: "/a/control-token",
    });
    expect(
      error(
        resolveFederation(
          app({ f: { address: "h:1", "operator-certificate": "c.pem" } }),
          "/a",
          "f",
        ),
      ).message,
    ).toContain("sets only one of 'operator-certificate' and 'operator-key'");
    expect(
      error(
        resolveFederation(
          app({ f: { address: "h:1", insecure: true, "operator-token-file": "t" } }),
          "/a",
          "f",
        ),
      ).message,
    ).toContain("operator authentication needs TLS");
  });
});

describe("simulation federations", () => {
  const pkg = (federations: Record<string, unknown>) => ({ flwr: { federations } });

  test("a federation with options and no address is Flower's local simulation SuperLink", () => {
    const r = resolveFederation(
      pkg({
        "local-simulation": {
          options: {
            "num-supernodes": 1000,
            backend: { "client-resources": { "num-cpus": 1, "num-gpus": 0 } },
          },
        },
      }),
      "/app",
      "local-simulation",
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.federation.localSuperLink).toBe("database");
    expect(r.federation.address).toBe("127.0.0.1:39093");
    expect(r.federation.simulationConfig).toMatchObject({
      numSupernodes: 1000,
      clientResourcesNumCpus: 1,
      clientResourcesNumGpus: 0,
    });
  });

  test("options with an address go to that SuperLink; bad options are one clear line", () => {
    const r = resolveFederation(
      pkg({ sim: { address: "127.0.0.1:9093", insecure: true, options: { "num-supernodes": 5 } } }),
      "/app",
      "sim",
    );
    expect(r.ok && [r.federation.address, r.federation.localSuperLink]).toEqual([
      "127.0.0.1:9093",
      undefined,
    ]);
    const bad = resolveFederation(pkg({ sim: { options: { "num-supernodes": -1 } } }), "/a", "sim");
    expect(!bad.ok && bad.error.message).toBe(
      "Federation 'sim': 'options.num-supernodes' must be a positive integer (the number of virtual SuperNodes)",
    );
    const typo = resolveFederation(
      pkg({ sim: { options: { "num-supernodes": 2, backend: { "client-resource": {} } } } }),
      "/a",
      "sim",
    );
    expect(!typo.ok && typo.error.message).toContain("'client-resource'");
    const none = resolveFederation(pkg({ sim: { insecure: true } }), "/a", "sim");
    expect(!none.ok && none.error.message).toContain("'address' is required");
  });
});

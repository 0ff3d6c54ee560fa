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
        rootCertificates: "/apps/auth/certificates/ca.crt",
        insecure: false,
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
  ])("invalid entry %j", (entry, message) => {
    const e = error(resolveFederation(app({ f: entry }), "/a", "f"));
    expect(e.code).toBe("invalid");
    expect(e.message).toContain(message);
  });
});

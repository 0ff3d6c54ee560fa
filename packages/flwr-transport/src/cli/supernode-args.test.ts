import { describe, expect, test } from "vitest";
import { CliError, UsageError } from "./cli-error.js";
import { parseSuperNodeArgs, SUPERNODE_USAGE, type SuperNodeArgs } from "./supernode-args.js";

function run(argv: string[]): SuperNodeArgs {
  const c = parseSuperNodeArgs(argv);
  if (c.kind !== "run") throw new Error(`expected run, got ${c.kind}`);
  return c.args;
}

function failure(argv: string[]): CliError {
  try {
    parseSuperNodeArgs(argv);
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error("expected a CliError");
}

describe("flower-supernode arguments", () => {
  test("the seed's command line", () => {
    const a = run([
      "--root-certificates",
      "certificates/ca.crt",
      "--auth-supernode-private-key",
      "keys/client_credentials_1",
      "--superlink",
      "127.0.0.1:9092",
      "--node-config",
      'dataset-path="datasets/cifar10_part_1"',
      "--clientappio-api-address=0.0.0.0:9095",
    ]);
    expect(a).toMatchObject({
      superlink: "127.0.0.1:9092",
      rootCertificates: "certificates/ca.crt",
      insecure: false,
      privateKeyFile: "keys/client_credentials_1",
      nodeConfig: { "dataset-path": "datasets/cifar10_part_1" },
      clientappioApiAddress: "0.0.0.0:9095",
      isolation: "subprocess",
      maxRetries: undefined,
      maxWaitTimeMs: undefined,
    });
  });

  test("Flower's defaults; retries, wait time, isolation, IPv6", () => {
    expect(run([])).toMatchObject({
      superlink: "0.0.0.0:9092",
      clientappioApiAddress: "127.0.0.1:9094",
      nodeConfig: {},
    });
    expect(
      run([
        "--superlink",
        "[::1]:9092",
        "--max-retries",
        "3",
        "--max-wait-time",
        "1.5",
        "--isolation",
        "process",
      ]),
    ).toMatchObject({
      superlink: "[::1]:9092",
      maxRetries: 3,
      maxWaitTimeMs: 1500,
      isolation: "process",
    });
    expect(parseSuperNodeArgs(["--help"]).kind).toBe("help");
    expect(parseSuperNodeArgs(["-V"]).kind).toBe("version");
  });

  test("a deprecated public key flag only warns", () => {
    expect(run(["--auth-supernode-public-key", "k.pub"]).warnings[0]).toContain("deprecated");
  });

  test("Flower's conflicts exit with status 1 and clear messages", () => {
    const both = failure(["--insecure", "--root-certificates", "ca.crt"]);
    expect(both.status).toBe(1);
    expect(both.message).toMatch(/^Conflicting options: The '--insecure' flag disables HTTPS/);
    const keyInsecure = failure(["--insecure", "--auth-supernode-private-key", "k"]);
    expect(keyInsecure.flowerCode).toBe(303);
    expect(keyInsecure.status).toBe(1);
    const addr = failure(["--superlink", "nowhere"]);
    expect(addr.flowerCode).toBe(600);
    expect(addr.message).toBe("SuperLink address (nowhere) cannot be parsed.");
  });

  test.each([
    [["--bogus"]],
    [["--isolation", "thread"]],
    [["--max-retries", "-1"]],
    [["--max-retries", "two"]],
    [["--max-wait-time", "soon"]],
    [["--node-config", "dataset-path"]],
    [["positional"]],
  ])("usage errors exit with status 2: %j", (argv) => {
    const e = failure(argv);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.status).toBe(2);
    expect(e.message).not.toContain("\n");
  });

  describe("the Fleet API wire", () => {
    test("by port without a flag or scheme: 8000 is HTTP, 9092 and the default gRPC", () => {
      expect(run([])).toMatchObject({
        superlink: "0.0.0.0:9092",
        fleetApiType: "grpc-rere",
        fleetApiTypeSource: "port",
      });
      expect(run(["--superlink", "127.0.0.1:9092"]).fleetApiType).toBe("grpc-rere");
      expect(run(["--superlink", "127.0.0.1:8000"])).toMatchObject({
        superlink: "127.0.0.1:8000",
        fleetApiType: "http",
        fleetApiTypeSource: "port",
      });
      expect(run(["--superlink", "[::1]:8000"]).fleetApiType).toBe("http");
      expect(run(["--superlink", "example.org:443"]).fleetApiType).toBe("grpc-rere");
    });

    test("by the explicit flag, whatever the port (and 1.29's --grpc-rere)", () => {
      expect(run(["--superlink", "10.0.0.1:9443", "--fleet-api-type", "http"])).toMatchObject({
        superlink: "10.0.0.1:9443",
        fleetApiType: "http",
        fleetApiTypeSource: "flag",
      });
      expect(
        run(["--superlink", "127.0.0.1:8000", "--fleet-api-type=grpc-rere"]).fleetApiType,
      ).toBe("grpc-rere");
      expect(run(["--superlink", "127.0.0.1:8000", "--grpc-rere"])).toMatchObject({
        fleetApiType: "grpc-rere",
        fleetApiTypeSource: "flag",
      });
    });

    test("by the address scheme; http:// needs --insecure, https:// refuses it", () => {
      expect(run(["--superlink", "https://sl.example.org:9443"])).toMatchObject({
        superlink: "sl.example.org:9443",
        fleetApiType: "http",
        fleetApiTypeSource: "scheme",
        insecure: false,
      });
      expect(run(["--superlink", "http://127.0.0.1:18000/", "--insecure"])).toMatchObject({
        superlink: "127.0.0.1:18000",
        fleetApiType: "http",
        insecure: true,
      });
      expect(run(["--superlink", "grpc://127.0.0.1:8000"])).toMatchObject({
        superlink: "127.0.0.1:8000",
        fleetApiType: "grpc-rere",
        fleetApiTypeSource: "scheme",
      });
      expect(run(["--superlink", "HTTPS://[::1]:8000"]).superlink).toBe("[::1]:8000");
      const plain = failure(["--superlink", "http://127.0.0.1:8000"]);
      expect(plain.status).toBe(1);
      expect(plain.message).toMatch(/plain HTTP: add --insecure/);
      const both = failure(["--superlink", "https://127.0.0.1:8000", "--insecure"]);
      expect(both.message).toMatch(/--insecure disables TLS/);
      expect(failure(["--superlink", "https://nowhere"]).flowerCode).toBe(600);
    });

    test.each([
      [["--fleet-api-type", "rest"]],
      [["--fleet-api-type", "grpc-adapter"]],
      [["--fleet-api-type", "h2"]],
      [["--fleet-api-type", "http", "--grpc-rere"]],
      [["--fleet-api-type", "http", "--superlink", "grpc://127.0.0.1:9092"]],
      [["--fleet-api-type", "grpc-rere", "--superlink", "https://127.0.0.1:8000"]],
      [["--superlink", "ftp://127.0.0.1:21"]],
    ])("wire choices that contradict each other are usage errors: %j", (argv) => {
      const e = failure(argv);
      expect(e).toBeInstanceOf(UsageError);
      expect(e.status).toBe(2);
    });
  });

  describe("Flower 1.42's other flags", () => {
    test("--host/--port/--ssl-* (the Runtime HTTP API) are checked and served without a warning", () => {
      expect(run([]).runtimeApi).toBeUndefined();
      const a = run(["--host", "0.0.0.0", "--port", "9095"]);
      expect(a.runtimeApi).toEqual({ host: "0.0.0.0", port: 9095, tls: undefined });
      expect(a.warnings).toEqual([]);
      const b = run([
        "--ssl-certfile",
        "s.pem",
        "--ssl-keyfile",
        "s.key",
        "--appio-ssl-ca-certfile",
        "ca.crt",
      ]);
      expect(b.runtimeApi).toEqual({
        host: "127.0.0.1",
        port: 9094,
        tls: { certFile: "s.pem", keyFile: "s.key", caCertFile: "ca.crt" },
      });
      expect(b.warnings.join("\n")).toMatch(/--appio-ssl-ca-certfile` flag is deprecated/);
      const partial = failure(["--ssl-certfile", "s.pem"]);
      expect(partial.flowerCode).toBe(605);
      expect(failure(["--port", "0"])).toBeInstanceOf(UsageError);
      expect(failure(["--port", "70000"])).toBeInstanceOf(UsageError);
    });

    test("flags flwr-ts does not support yet are accepted with a warning", () => {
      const a = run([
        "--trusted-entities",
        "t.yaml",
        "--superexec-auth-secret-file",
        "s",
        "--allow-runtime-dependency-installation",
      ]);
      expect(a.warnings).toHaveLength(3);
      expect(a.warnings.join("\n")).toMatch(/--trusted-entities/);
    });

    test("--health-server-address, --log-format and the message-size flags", () => {
      const dflt = run([]);
      expect(dflt).toMatchObject({
        healthServerAddress: undefined,
        logFormat: "text",
        messageLimits: { maxReceiveBytes: 2_147_483_647, maxSendBytes: 2_147_483_647 },
      });
      const set = run([
        "--health-server-address",
        "127.0.0.1:9098",
        "--log-format",
        "json",
        "--grpc-max-receive-message-length",
        "1048576",
        "--grpc-max-send-message-length",
        "2048",
      ]);
      expect(set).toMatchObject({
        healthServerAddress: "127.0.0.1:9098",
        logFormat: "json",
        messageLimits: { maxReceiveBytes: 1_048_576, maxSendBytes: 2048 },
      });
      expect(set.warnings).toEqual([]);
      expect(failure(["--health-server-address", "nowhere"]).flowerCode).toBe(600);
      expect(failure(["--log-format", "xml"]).message).toBe(
        "--log-format must be 'text' or 'json', got 'xml'",
      );
      expect(failure(["--grpc-max-send-message-length", "0"]).message).toMatch(
        /^--grpc-max-send-message-length: must be from 1 to 2147483647 bytes/,
      );
    });

    test("--superexec-auth-secret-file is kept for the Runtime API, and warns without it", () => {
      const served = run(["--port", "9095", "--superexec-auth-secret-file", "s.key"]);
      expect(served.superExecAuthSecretFile).toBe("s.key");
      expect(served.warnings).toEqual([]);
      const unserved = run(["--superexec-auth-secret-file", "s.key"]);
      expect(unserved.superExecAuthSecretFile).toBe("s.key");
      expect(unserved.warnings.join("\n")).toMatch(/Runtime HTTP API, which is not served/);
    });

    test("the help names the wire choice and the 1.42 flags", () => {
      const help = SUPERNODE_USAGE;
      expect(help).toMatch(/--fleet-api-type +TYPE/);
      expect(help.replace(/[│\s]+/g, " ")).toContain("http for port 8000");
      expect(help).toMatch(/--host +HOST/);
      expect(help).toMatch(/--port +PORT/);
    });
  });
});

import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { FlowerExit } from "../flower-exit.js";
import { normalizeAddress, parseSuperLinkArgs } from "./superlink-args.js";

const pem = join(tmpdir(), `flwr-args-${process.pid}.pem`);
writeFileSync(pem, "-----BEGIN CERTIFICATE-----\n");
const tls = ["--ssl-ca-certfile", pem, "--ssl-certfile", pem, "--ssl-keyfile", pem];

function exitOf(argv: string[]): FlowerExit {
  try {
    parseSuperLinkArgs(argv);
  } catch (error) {
    if (error instanceof FlowerExit) return error;
    throw error;
  }
  throw new Error("expected an exit");
}

describe("flower-superlink arguments", () => {
  test("Flower's defaults", () => {
    const cmd = parseSuperLinkArgs(tls);
    expect(cmd.kind).toBe("run");
    if (cmd.kind !== "run") return;
    expect(cmd.config).toMatchObject({
      fleetAddress: "0.0.0.0:9092",
      controlAddress: "0.0.0.0:9093",
      serverAppIoAddress: "127.0.0.1:9091",
      httpAddress: "127.0.0.1:8000",
      database: ":flwr-in-memory:",
      isolation: "subprocess",
      enableSupernodeAuth: false,
      tls: { caCertFile: pem, certFile: pem, keyFile: pem },
    });
    expect(cmd.config.warnings.join()).toMatch(/SuperNode authentication is disabled/);
  });

  test("--fleet-cors-origin: off by default, a validated origin list, exit 1 on a bad one", () => {
    const off = parseSuperLinkArgs(tls);
    expect(off.kind === "run" && off.config.fleetCorsOrigins).toEqual([]);
    const on = parseSuperLinkArgs([...tls, "--fleet-cors-origin", "https://127.0.0.1:8443"]);
    expect(on.kind === "run" && on.config.fleetCorsOrigins).toEqual(["https://127.0.0.1:8443"]);
    const bad = exitOf([...tls, "--fleet-cors-origin", "https://127.0.0.1:8443/page"]);
    expect(bad.status).toBe(1);
    expect(bad.message).toMatch(/Invalid `--fleet-cors-origin`: .*no path or trailing slash/);
    expect(
      exitOf([...tls, "--no-http-api", "--fleet-cors-origin", "https://a.example"]).message,
    ).toMatch(/--no-http-api/);
  });

  test("certificates are required unless --insecure; partial TLS is refused", () => {
    expect(exitOf([])).toMatchObject({
      status: 1,
      message: expect.stringMatching(/^Certificates are required/),
    });
    expect(exitOf(["--ssl-certfile", pem])).toMatchObject({
      status: 1,
      level: "plain",
      message: expect.stringMatching(/You need to provide valid file paths/),
    });
    expect(
      exitOf(["--ssl-ca-certfile", "/nope", "--ssl-certfile", pem, "--ssl-keyfile", pem]).message,
    ).toBe("Path argument `--ssl-ca-certfile` does not point to a file.");
    expect(parseSuperLinkArgs(["--insecure"]).kind).toBe("run");
  });

  test("--enable-supernode-auth with --insecure exits with code 104", () => {
    const exit = exitOf(["--insecure", "--enable-supernode-auth"]);
    expect(exit.status).toBe(1);
    expect(exit.message).toMatch(
      /^Exit Code: 104\nThe `--enable-supernode-auth` flag requires encrypted TLS/,
    );
    expect(exitOf([...tls, "--auth-list-public-keys", "k.csv"]).message).toMatch(/Exit Code: 104/);
  });

  test("bad addresses, unknown flags and bad choices", () => {
    expect(exitOf(["--insecure", "--fleet-api-address", "nope"]).message).toMatch(
      /Exit Code: 600\nAddress \(nope\) cannot be parsed/,
    );
    expect(exitOf(["--bogus"]).status).toBe(2);
    expect(exitOf(["--insecure", "--isolation", "thread"]).status).toBe(2);
  });

  test("addresses: IPv4, names, IPv6", () => {
    expect(normalizeAddress("127.0.0.1:9092")).toBe("127.0.0.1:9092");
    expect(normalizeAddress("[::]:9092")).toBe("[::]:9092");
    expect(normalizeAddress("localhost:0")).toBe("localhost:0");
    expect(normalizeAddress("host:70000")).toBeUndefined();
    expect(normalizeAddress("host")).toBeUndefined();
  });

  test("Flower 1.42's --host/--port choose the HTTP API's address; --no-http-api turns it off", () => {
    const run = (argv: string[]) => {
      const cmd = parseSuperLinkArgs([...tls, ...argv]);
      if (cmd.kind !== "run") throw new Error("expected run");
      return cmd.config;
    };
    expect(run(["--host", "0.0.0.0", "--port", "8080"]).httpAddress).toBe("0.0.0.0:8080");
    expect(run(["--host", "::1", "--port", "0"]).httpAddress).toBe("[::1]:0");
    expect(run(["--no-http-api"]).httpAddress).toBeUndefined();
    expect(exitOf([...tls, "--port", "70000"]).message).toMatch(/--port/);
    expect(exitOf([...tls, "--port", "http"]).message).toMatch(/--port/);
    expect(exitOf([...tls, "--port", "9092"]).message).toMatch(
      /HTTP API \(--port 9092\) and the gRPC API of --fleet-api-address/,
    );
  });
});

describe("--superexec-auth-secret-file (Flower 1.42)", () => {
  const secretFile = join(tmpdir(), `flwr-args-secret-${process.pid}`);
  const emptyFile = join(tmpdir(), `flwr-args-empty-${process.pid}`);
  writeFileSync(secretFile, "exact bytes\n");
  writeFileSync(emptyFile, "");

  test("with --isolation process the file's exact bytes become the SuperExec secret", () => {
    const cmd = parseSuperLinkArgs([
      ...tls,
      "--isolation",
      "process",
      "--superexec-auth-secret-file",
      secretFile,
    ]);
    if (cmd.kind !== "run") throw new Error("expected run");
    expect(Buffer.from(cmd.config.superExecAuthSecret!).toString()).toBe("exact bytes\n");
    expect(cmd.config.warnings.join()).toMatch(/EXPERIMENTAL: SuperExec authentication/);
  });

  test("in subprocess isolation it is ignored with 1.42's warning; without the flag no secret", () => {
    const cmd = parseSuperLinkArgs([...tls, "--superexec-auth-secret-file", secretFile]);
    if (cmd.kind !== "run") throw new Error("expected run");
    expect(cmd.config.superExecAuthSecret).toBeUndefined();
    expect(cmd.config.warnings.join()).toMatch(/ignored in subprocess isolation mode/);
    const plain = parseSuperLinkArgs([...tls, "--isolation", "process"]);
    if (plain.kind !== "run") throw new Error("expected run");
    expect(plain.config.superExecAuthSecret).toBeUndefined();
  });

  test("an empty or missing file is SUPERLINK_INVALID_ARGS", () => {
    for (const file of [emptyFile, join(tmpdir(), "flwr-args-no-such-secret")]) {
      const exit = exitOf([...tls, "--isolation", "process", "--superexec-auth-secret-file", file]);
      expect(exit.message).toMatch(/Failed to load SuperExec authentication secret: /);
    }
  });

  test("--require-control-auth: off by default, needs TLS, reads and checks the token file", () => {
    const off = parseSuperLinkArgs([...tls, "--enable-supernode-auth"]);
    if (off.kind !== "run") throw new Error("expected run");
    expect(off.config.controlAuth).toEqual({ required: false });
    expect(off.config.warnings.join()).toMatch(/Control API operator authentication is off/);
    const certOnly = parseSuperLinkArgs([...tls, "--require-control-auth"]);
    if (certOnly.kind !== "run") throw new Error("expected run");
    expect(certOnly.config.controlAuth).toEqual({ required: true, token: undefined });
    const token = "t".repeat(40);
    const file = join(tmpdir(), `flwr-args-token-${process.pid}`);
    writeFileSync(file, `${token}\n`);
    const withToken = parseSuperLinkArgs([
      ...tls,
      "--require-control-auth",
      "--control-auth-token-file",
      file,
    ]);
    if (withToken.kind !== "run") throw new Error("expected run");
    expect(withToken.config.controlAuth).toEqual({ required: true, token });
    expect(exitOf(["--insecure", "--require-control-auth"]).message).toMatch(
      /--require-control-auth` needs TLS/,
    );
    expect(exitOf([...tls, "--control-auth-token-file", file]).message).toMatch(
      /has no effect without `--require-control-auth`/,
    );
    writeFileSync(file, "short\n");
    expect(
      exitOf([...tls, "--require-control-auth", "--control-auth-token-file", file]).message,
    ).toMatch(/must hold one token of 32-512 characters \(got 5\); create one with/);
    expect(
      exitOf([...tls, "--require-control-auth", "--control-auth-token-file", `${file}.nope`])
        .message,
    ).toMatch(/does not exist/);
  });

  test("--run-log-max-bytes: 16 MiB by default, a whole number of bytes >= 1024", () => {
    const config = (argv: string[]) => {
      const cmd = parseSuperLinkArgs([...tls, ...argv]);
      if (cmd.kind !== "run") throw new Error("expected run");
      return cmd.config;
    };
    expect(config([]).runLogMaxBytes).toBe(16 * 1024 * 1024);
    expect(config(["--run-log-max-bytes", "65536"]).runLogMaxBytes).toBe(65536);
    expect(exitOf([...tls, "--run-log-max-bytes", "512"]).message).toBe(
      "flower-superlink: error: argument --run-log-max-bytes: must be at least 1024",
    );
    expect(exitOf([...tls, "--run-log-max-bytes", "1e6"]).message).toMatch(
      /--run-log-max-bytes: must be a whole number of bytes/,
    );
  });
});

describe("gRPC message-size flags", () => {
  test("default to Flower's 2147483647 bytes; set each direction; refuse bad values", () => {
    const dflt = parseSuperLinkArgs(["--insecure"]);
    if (dflt.kind !== "run") throw new Error("expected run");
    expect(dflt.config.grpcMessageLimits).toEqual({
      maxReceiveBytes: 2_147_483_647,
      maxSendBytes: 2_147_483_647,
    });
    const set = parseSuperLinkArgs([
      "--insecure",
      "--grpc-max-receive-message-length",
      "536870912",
      "--grpc-max-send-message-length",
      "1048576",
    ]);
    if (set.kind !== "run") throw new Error("expected run");
    expect(set.config.grpcMessageLimits).toEqual({
      maxReceiveBytes: 536_870_912,
      maxSendBytes: 1_048_576,
    });
    expect(exitOf(["--insecure", "--grpc-max-receive-message-length", "0"]).message).toMatch(
      /grpc-max-receive-message-length.*bytes/s,
    );
  });
});

describe("operations flags", () => {
  const run = (argv: string[]) => {
    const cmd = parseSuperLinkArgs(["--insecure", ...argv]);
    if (cmd.kind !== "run") throw new Error("expected run");
    return cmd.config;
  };

  test("--log-format: text by default, json on request, anything else refused", () => {
    expect(run([]).logFormat).toBe("text");
    expect(run(["--log-format", "json"]).logFormat).toBe("json");
    const bad = exitOf(["--insecure", "--log-format", "yaml"]);
    expect(bad.status).toBe(2);
    expect(bad.message).toMatch(
      /--log-format: invalid choice: 'yaml' \(choose from 'text', 'json'\)/,
    );
  });

  test("--health-server-address and --metrics-address: off by default, parsed, no shared port", () => {
    expect(run([])).toMatchObject({ healthServerAddress: undefined, metricsAddress: undefined });
    expect(
      run(["--health-server-address", "0.0.0.0:9098", "--metrics-address", "127.0.0.1:9099"]),
    ).toMatchObject({ healthServerAddress: "0.0.0.0:9098", metricsAddress: "127.0.0.1:9099" });
    expect(exitOf(["--insecure", "--metrics-address", "localhost"]).message).toMatch(
      /Address \(localhost\) cannot be parsed/,
    );
    expect(exitOf(["--insecure", "--metrics-address", "127.0.0.1:9092"]).message).toMatch(
      /--metrics-address \(127\.0\.0\.1:9092\) shares its port with another API \(0\.0\.0\.0:9092\)/,
    );
    expect(
      exitOf(["--insecure", "--health-server-address", ":9099", "--metrics-address", ":9099"])
        .message,
    ).toMatch(/cannot be parsed|cannot share a port/);
    expect(
      exitOf([
        "--insecure",
        "--health-server-address",
        "127.0.0.1:9099",
        "--metrics-address",
        "127.0.0.1:9099",
      ]).message,
    ).toMatch(/--health-server-address and --metrics-address cannot share a port/);
  });
});

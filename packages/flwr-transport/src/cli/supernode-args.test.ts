import { describe, expect, test } from "vitest";
import { CliError, UsageError } from "./cli-error.js";
import { parseSuperNodeArgs, type SuperNodeArgs } from "./supernode-args.js";

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
      clientappioApiAddress: "0.0.0.0:9094",
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
});

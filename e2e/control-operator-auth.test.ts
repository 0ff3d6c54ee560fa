/**
 * Operator authentication on the Control API (issue #12, finding 3), real processes, real TLS,
 * 127.0.0.1, free ports: the flwr-ts `flower-superlink` with `--enable-supernode-auth`,
 * `--require-control-auth` and `--control-auth-token-file`, its gRPC Control port and its HTTP
 * port (Flower 1.42's Control over HTTP):
 *
 * - a client with only the CA certificate cannot register a SuperNode key, list nodes or start a
 *   run, on either wire (our `flwr`, and Python 1.29's `flwr` without credentials);
 * - an operator can: our `flwr` with the certificate of `flwr-ts gen-certs --operator alice`
 *   (federation keys `operator-certificate`/`operator-key`) or with the token
 *   (`operator-token-file`), on both wires; Python 1.29's `flwr` (gRPC) and Python 1.42's `flwr`
 *   (HTTP) with the token in their credential store (`$FLWR_HOME/credentials.yaml`);
 * - the SuperLink's audit log names the operator of every register, unregister, start and stop.
 *
 * Python's CLI where operator auth is off is covered by e2e/superlink-python-interop.test.ts.
 * Run `pnpm build` first.
 */
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pythonBinDir, pythonFlwr, pythonFlwrAvailable } from "../interop/python.js";
import {
  generateAuthKeys,
  generateCertificates,
  generateOperatorCertificate,
} from "../packages/flwr-crypto/src/index.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const py142 = pythonFlwr("1.42");

let dir: string;
let appDir: string;
let home: string;
let superlink: RunningProcess;
let controlPort: number;
let httpPort: number;
let tokenFile: string;
let token: string;
let certs: Awaited<ReturnType<typeof generateCertificates>>["paths"];
let operator: Awaited<ReturnType<typeof generateOperatorCertificate>>["paths"];
const env = () => ({ FLWR_HOME: home, NO_COLOR: "1", FLWR_TELEMETRY_ENABLED: "0" });

/** Our `flwr` in the app directory. */
async function flwr(args: string[]): Promise<{ code: number | string; output: string }> {
  return run(cliPath("flwr"), args, { env: env(), cwd: appDir, timeoutMs: 60_000 });
}

/** The federations of the app: every credential on both wires. */
function writeFederations(): void {
  const grpc = `127.0.0.1:${controlPort}`;
  const https = `https://127.0.0.1:${httpPort}`;
  const ca = certs.caCert;
  const cert = { "operator-certificate": operator.cert, "operator-key": operator.key };
  const tok = { "operator-token-file": tokenFile };
  const file = join(appDir, "package.json");
  const pkg = JSON.parse(readFileSync(file, "utf8"));
  pkg.flwr.federations = {
    default: "ca-only",
    "ca-only": { address: grpc, "root-certificates": ca },
    "ca-only-http": { address: https, "root-certificates": ca },
    "op-cert": { address: grpc, "root-certificates": ca, ...cert },
    "op-cert-http": { address: https, "root-certificates": ca, ...cert },
    "op-token": { address: grpc, "root-certificates": ca, ...tok },
    "op-token-http": { address: https, "root-certificates": ca, ...tok },
  };
  writeFileSync(file, JSON.stringify(pkg, null, 2));
}

/**
 * Puts the operator token into Python flwr's credential store for `address`, as `flwr login`
 * stores an OIDC token (`flwr/cli/auth_plugin/oidc_cli_plugin.py`, `FileCredentialStore`): the
 * CLI then sends it on every Control call.
 */
function writePythonCredentials(addresses: string[]): void {
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  const lines = addresses.flatMap((a) => [
    `flower.account-auth.${a}.authn-type: ${b64("oidc")}`,
    `flower.account-auth.${a}.oidc-access-token: ${b64(token)}`,
    `flower.account-auth.${a}.oidc-refresh-token: ${b64("unused")}`,
  ]);
  writeFileSync(join(home, "credentials.yaml"), `${lines.join("\n")}\n`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "flwr-e2e-operator-"));
  certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
  operator = (
    await generateOperatorCertificate({ outDir: join(dir, "certificates"), name: "alice" })
  ).paths;
  token = randomBytes(32).toString("hex");
  tokenFile = join(dir, "control-token");
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  home = join(dir, "flwr-home");
  mkdirSync(home);
  appDir = join(dir, "app");
  cpSync(join(import.meta.dirname, "fixtures/linear-app"), appDir, { recursive: true });
  controlPort = await freePort();
  httpPort = await freePort();
  superlink = start(
    cliPath("flower-superlink"),
    [
      "--ssl-ca-certfile",
      certs.caCert,
      "--ssl-certfile",
      certs.serverCert,
      "--ssl-keyfile",
      certs.serverKey,
      "--enable-supernode-auth",
      "--require-control-auth",
      "--control-auth-token-file",
      tokenFile,
      "--fleet-api-address",
      `127.0.0.1:${await freePort()}`,
      "--control-api-address",
      `127.0.0.1:${controlPort}`,
      "--serverappio-api-address",
      `127.0.0.1:${await freePort()}`,
      "--port",
      String(httpPort),
      "--storage-dir",
      join(dir, "ffs"),
    ],
    { env: env() },
  );
  await superlink.waitFor(/Starting Control API on 127\.0\.0\.1:\d+ \(operator auth required\)/);
  await superlink.waitFor("Starting HTTP API");
  writeFederations();
}, 60_000);

afterAll(async () => {
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Control API with --require-control-auth (flwr-ts SuperLink, TLS)", () => {
  test("a client with only the CA certificate cannot register a key, list nodes or start a run", async () => {
    const [key] = generateAuthKeys({ outDir: join(dir, "keys-anon"), count: 1 });
    for (const federation of ["ca-only", "ca-only-http"]) {
      for (const args of [
        ["supernode", "register", key!.publicKeyPath, ".", federation],
        ["supernode", "list", ".", federation],
        ["run", ".", federation],
      ]) {
        const r = await flwr(args);
        expect(r.code, r.output).toBe(1);
        expect(r.output, r.output).toMatch(/need operator authentication/);
        expect(r.output, r.output).not.toMatch(/registered successfully|Successfully started/);
      }
    }
    expect(superlink.output()).toMatch(
      /WARNING : +Control API: refused RegisterNode from .*need operator authentication/,
    );
    expect(superlink.output()).not.toMatch(/Control audit: .*RegisterNode ok/);
  }, 120_000);

  test("an operator with a certificate or the token can, on gRPC and HTTP; the audit log names them", async () => {
    const keys = generateAuthKeys({ outDir: join(dir, "keys-op"), count: 4 });
    const federations = ["op-cert", "op-cert-http", "op-token", "op-token-http"];
    const ids: string[] = [];
    for (const [i, federation] of federations.entries()) {
      const r = await flwr(["supernode", "register", keys[i]!.publicKeyPath, ".", federation]);
      expect(r.code, r.output).toBe(0);
      const id = /SuperNode (\d+) registered successfully/.exec(r.output)?.[1];
      expect(id, r.output).toBeDefined();
      ids.push(id!);
      const list = await flwr(["supernode", "list", ".", federation, "--format", "json"]);
      expect(list.code, list.output).toBe(0);
      expect(list.output).toContain(id!);
    }
    const out = () => superlink.output();
    expect(out()).toMatch(
      new RegExp(
        `Control audit: operator=alice \\(certificate\\) peer=\\S+ RegisterNode ok node_id=${ids[0]}`,
      ),
    );
    expect(out()).toMatch(
      new RegExp(
        `Control audit: operator=alice \\(certificate\\) peer=\\S+ RegisterNode ok node_id=${ids[1]}`,
      ),
    );
    expect(out()).toMatch(
      new RegExp(
        `Control audit: operator=token \\(token\\) peer=\\S+ RegisterNode ok node_id=${ids[2]}`,
      ),
    );

    // Start a run with the certificate, stop it with the token (and over HTTP).
    const started = await flwr(["run", ".", "op-cert"]);
    expect(started.code, started.output).toBe(0);
    const runId = /Successfully started run (\d+)/.exec(started.output)?.[1];
    expect(runId, started.output).toBeDefined();
    const stopped = await flwr(["stop", runId!, ".", "op-token-http"]);
    expect(stopped.code, stopped.output).toBe(0);
    expect(out()).toMatch(
      new RegExp(
        `Control audit: operator=alice \\(certificate\\) peer=\\S+ StartRun ok .*run_id=${runId}`,
      ),
    );
    expect(out()).toMatch(
      new RegExp(`Control audit: operator=token \\(token\\) peer=\\S+ StopRun ok run_id=${runId}`),
    );

    const unregistered = await flwr(["supernode", "unregister", ids[3]!, ".", "op-token"]);
    expect(unregistered.code, unregistered.output).toBe(0);
    expect(out()).toMatch(
      new RegExp(
        `Control audit: operator=token \\(token\\) peer=\\S+ UnregisterNode ok node_id=${ids[3]}`,
      ),
    );
  }, 180_000);

  test("a wrong token is refused even beside a valid certificate", async () => {
    const wrong = join(dir, "wrong-token");
    writeFileSync(wrong, `${"x".repeat(64)}\n`);
    const file = join(appDir, "package.json");
    const pkg = JSON.parse(readFileSync(file, "utf8"));
    pkg.flwr.federations["op-wrong"] = {
      ...pkg.flwr.federations["op-cert"],
      "operator-token-file": wrong,
    };
    writeFileSync(file, JSON.stringify(pkg, null, 2));
    const r = await flwr(["supernode", "list", ".", "op-wrong"]);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/Invalid operator token/);
  }, 60_000);

  test.skipIf(!pythonFlwrAvailable)(
    "Python 1.29's flwr: refused without credentials, works with the token in its credential store",
    async () => {
      writeFileSync(
        join(home, "config.toml"),
        `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${controlPort}"\nroot-certificates = "${certs.caCert}"\n`,
      );
      const pyFlwr = (args: string[]) =>
        run(join(pythonBinDir, "flwr"), args, { env: env(), cwd: dir, timeoutMs: 60_000 });
      const [key] = generateAuthKeys({ outDir: join(dir, "keys-py"), count: 1 });
      const refused = await pyFlwr(["supernode", "register", key!.publicKeyPath, "e2e"]);
      expect(refused.code, refused.output).not.toBe(0);
      expect(refused.output).not.toMatch(/registered successfully/);

      writePythonCredentials([`127.0.0.1:${controlPort}`]);
      const registered = await pyFlwr(["supernode", "register", key!.publicKeyPath, "e2e"]);
      expect(registered.code, registered.output).toBe(0);
      expect(registered.output).toMatch(/registered successfully/);
      const list = await pyFlwr(["supernode", "list", "e2e", "--format", "json"]);
      expect(list.code, list.output).toBe(0);
      expect(superlink.output()).toMatch(
        /Control audit: operator=token \(token\) .*RegisterNode ok/,
      );
    },
    120_000,
  );

  test.skipIf(!py142.available)(
    "Python 1.42's flwr over HTTP Control: works with the token in its credential store",
    async () => {
      writeFileSync(
        join(home, "config.toml"),
        `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${httpPort}"\nroot-certificates = "${certs.caCert}"\n`,
      );
      const pyFlwr = (args: string[]) =>
        run(join(py142.binDir, "flwr"), args, { env: env(), cwd: dir, timeoutMs: 60_000 });
      writePythonCredentials([]);
      // 1.42 prints a JSON error and exits 0 with --format json.
      const refused = await pyFlwr(["supernode", "list", "e2e", "--format", "json"]);
      expect(refused.output, refused.output).toMatch(/"success": false/);
      expect(refused.output, refused.output).toMatch(/Authentication failed/);
      writePythonCredentials([`127.0.0.1:${httpPort}`]);
      const list = await pyFlwr(["supernode", "list", "e2e", "--format", "json"]);
      expect(list.code, list.output).toBe(0);
      expect(list.output).toMatch(/"success": true/);
    },
    120_000,
  );
});

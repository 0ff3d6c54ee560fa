/**
 * TLS faults with real processes and real TLS (issue #12, "TLS faults as tests"): flwr-ts
 * SuperLinks with a good certificate, an expired one, one for another host name, and none
 * (`--insecure`); against each, the flwr-ts `flower-supernode` and the flwr-ts CLI (`flwr ls`,
 * `flwr supernode list`) configured wrongly — another CA, plaintext against TLS, TLS against
 * plaintext. Every case ends with exactly one error line that is the last line printed, names
 * the cause and the fix, exits 1, prints no stack trace and finishes within a bound. A SuperNode
 * whose `--superlink` has nothing listening logs every retry with its cause and, with Flower's
 * `--max-retries` / `--max-wait-time`, gives up with a line that says where it tried.
 * Certificates: `generateCertificates` (what `flwr-ts gen-certs` writes) and @peculiar/x509 for
 * the expired one (`support/tls-fixtures.ts`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";
import { makeTlsFixtures, type TlsFixtures, type TlsSet } from "./support/tls-fixtures.js";

/** Longest a failing SuperNode or CLI call may take (they fail in 1-3 s; no hang). */
const BOUND_MS = 20_000;

interface Ports {
  fleet: number;
  control: number;
}

let dir: string;
let certs: TlsFixtures;
const links: Record<"good" | "expired" | "wrongHost" | "plain", Ports> = {
  good: { fleet: 0, control: 0 },
  expired: { fleet: 0, control: 0 },
  wrongHost: { fleet: 0, control: 0 },
  plain: { fleet: 0, control: 0 },
};
const superlinks: RunningProcess[] = [];

function tlsArgs(set: TlsSet): string[] {
  return [
    "--ssl-ca-certfile",
    set.caCert,
    "--ssl-certfile",
    set.serverCert,
    "--ssl-keyfile",
    set.serverKey,
  ];
}

async function startSuperLink(ports: Ports, args: string[]): Promise<void> {
  ports.fleet = await freePort();
  ports.control = await freePort();
  const p = start(cliPath("flower-superlink"), [
    "--fleet-api-address",
    `127.0.0.1:${ports.fleet}`,
    "--control-api-address",
    `127.0.0.1:${ports.control}`,
    "--serverappio-api-address",
    `127.0.0.1:${await freePort()}`,
    "--no-http-api",
    ...args,
  ]);
  superlinks.push(p);
  await p.waitFor("Starting Control API", 30_000);
}

/** The lines of `output` that are not empty. */
function lines(output: string): string[] {
  return output.split("\n").filter((l) => l.trim().length > 0);
}

/** Asserts one error line, last, matching `pattern`, and no stack trace. */
function expectOneErrorLine(output: string, marker: RegExp, pattern: RegExp): void {
  const all = lines(output);
  const errors = all.filter((l) => marker.test(l));
  expect(errors, output).toHaveLength(1);
  expect(all.at(-1), output).toBe(errors[0]);
  expect(errors[0], output).toMatch(pattern);
  expect(output).not.toMatch(/\n\s+at \S/);
  expect(output).not.toMatch(/Error \[ERR_|node:internal|grpc-js/);
}

async function superNode(args: string[]): Promise<{ code: number | string; output: string }> {
  const t0 = Date.now();
  const r = await run(
    cliPath("flower-supernode"),
    ["--clientappio-api-address", `127.0.0.1:${await freePort()}`, ...args],
    { timeoutMs: BOUND_MS },
  );
  expect(Date.now() - t0).toBeLessThan(BOUND_MS);
  return r;
}

/** An app directory whose only federation `f` is `entry`. */
function appWith(name: string, entry: Record<string, unknown>): string {
  const app = join(dir, `app-${name}`);
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name, flwr: { app: {}, federations: { default: "f", f: entry } } }),
  );
  return app;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "flwr-tls-faults-"));
  certs = await makeTlsFixtures(join(dir, "certs"));
  await Promise.all([
    startSuperLink(links.good, tlsArgs(certs.good)),
    startSuperLink(links.expired, tlsArgs(certs.expired)),
    startSuperLink(links.wrongHost, tlsArgs(certs.wrongHost)),
    startSuperLink(links.plain, ["--insecure"]),
  ]);
}, 90_000);

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

interface Fault {
  readonly name: string;
  /** flower-supernode's TLS flags and the SuperLink it dials. */
  readonly superNode: () => { fleet: number; args: string[]; host?: string };
  /** The federation entry of the CLI. */
  readonly federation: () => Record<string, unknown>;
  /** The SuperNode's error line. */
  readonly superNodeLine: RegExp;
  /** The CLI's error line. */
  readonly cliLine: RegExp;
}

const FAULTS: Fault[] = [
  {
    name: "wrong CA",
    superNode: () => ({
      fleet: links.good.fleet,
      args: ["--root-certificates", certs.otherCa.caCert],
    }),
    federation: () => ({
      address: `127.0.0.1:${links.good.control}`,
      "root-certificates": certs.otherCa.caCert,
    }),
    superNodeLine:
      /TLS handshake with the SuperLink at 127\.0\.0\.1:\d+ failed: self-signed certificate in certificate chain\. .*set --root-certificates to the CA certificate that signed the SuperLink's certificate/,
    cliLine:
      /^❌ TLS handshake with the SuperLink at 127\.0\.0\.1:\d+ failed \(self-signed certificate in certificate chain\)\. Set "root-certificates" of federation 'f'/,
  },
  {
    name: "expired server certificate",
    superNode: () => ({
      fleet: links.expired.fleet,
      args: ["--root-certificates", certs.expired.caCert],
    }),
    federation: () => ({
      address: `127.0.0.1:${links.expired.control}`,
      "root-certificates": certs.expired.caCert,
    }),
    superNodeLine:
      /TLS handshake with the SuperLink at 127\.0\.0\.1:\d+ failed: certificate has expired\. Renew the SuperLink's certificate/,
    cliLine:
      /^❌ TLS handshake with the SuperLink at 127\.0\.0\.1:\d+ failed: certificate has expired\. Renew the SuperLink's certificate/,
  },
  {
    name: "hostname mismatch",
    superNode: () => ({
      fleet: links.wrongHost.fleet,
      args: ["--root-certificates", certs.wrongHost.caCert],
      host: "localhost",
    }),
    federation: () => ({
      address: `127.0.0.1:${links.wrongHost.control}`,
      "root-certificates": certs.wrongHost.caCert,
    }),
    superNodeLine:
      /TLS handshake with the SuperLink at localhost:\d+ failed: the certificate has no entry for localhost \(it names DNS:flower\.example\.org\)\. Connect with a name the certificate lists \(--superlink\), or issue the SuperLink's certificate for localhost \(flwr-ts gen-certs --host localhost\)/,
    cliLine:
      /^❌ TLS handshake with the SuperLink at 127\.0\.0\.1:\d+ failed: the certificate has no entry for IP 127\.0\.0\.1\. .*flwr-ts gen-certs --host 127\.0\.0\.1/,
  },
  {
    name: "plaintext client on a TLS port",
    superNode: () => ({ fleet: links.good.fleet, args: ["--insecure"] }),
    federation: () => ({ address: `127.0.0.1:${links.good.control}`, insecure: true }),
    superNodeLine:
      /The SuperLink at 127\.0\.0\.1:\d+ uses TLS, but this client connects without it: remove --insecure and set --root-certificates\./,
    cliLine:
      /^❌ The SuperLink at 127\.0\.0\.1:\d+ uses TLS, but federation 'f' .* sets no TLS: remove "insecure": true and set "root-certificates"\./,
  },
  {
    name: "TLS client on a plaintext port",
    superNode: () => ({
      fleet: links.plain.fleet,
      args: ["--root-certificates", certs.good.caCert],
    }),
    federation: () => ({
      address: `127.0.0.1:${links.plain.control}`,
      "root-certificates": certs.good.caCert,
    }),
    superNodeLine:
      /The SuperLink at 127\.0\.0\.1:\d+ does not use TLS \(was it started with --insecure\?\): use --insecure/,
    cliLine:
      /^❌ The SuperLink at 127\.0\.0\.1:\d+ does not use TLS \(was it started with --insecure\?\): set "insecure": true/,
  },
];

describe.each(FAULTS)("$name", (fault) => {
  test("flower-supernode: one ERROR line naming the cause and the fix, exit 1", async () => {
    const { fleet, args, host } = fault.superNode();
    const r = await superNode(["--superlink", `${host ?? "127.0.0.1"}:${fleet}`, ...args]);
    expect(r.code, r.output).toBe(1);
    expectOneErrorLine(r.output, /^ERROR :/, fault.superNodeLine);
  });

  test.each(["ls", "supernode list"])("flwr %s: one ❌ line, exit 1", async (command) => {
    const cmd = command.split(" ");
    const app = appWith(fault.name.replace(/\W+/g, "-"), fault.federation());
    const t0 = Date.now();
    const r = await run(cliPath("flwr"), [...cmd, app, "f"], { timeoutMs: BOUND_MS });
    expect(Date.now() - t0).toBeLessThan(BOUND_MS);
    expect(r.code, r.output).toBe(1);
    expectOneErrorLine(r.output, /^❌/, fault.cliLine);
  });
});

describe("a SuperNode whose --superlink has nothing listening", () => {
  test("--max-retries 2: logs each retry with its cause, then gives up in one line", async () => {
    const port = await freePort();
    const r = await superNode([
      "--superlink",
      `127.0.0.1:${port}`,
      "--insecure",
      "--max-retries",
      "2",
    ]);
    expect(r.code, r.output).toBe(1);
    const retries = lines(r.output).filter((l) =>
      l.includes(`Connection attempt failed (connect ECONNREFUSED 127.0.0.1:${port}), retrying in`),
    );
    expect(retries, r.output).toHaveLength(2);
    expectOneErrorLine(
      r.output,
      /^ERROR :/,
      new RegExp(
        `Giving up reconnection to the SuperLink at 127\\.0\\.0\\.1:${port} after [\\d.]+ seconds and 3 tries \\(last error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)\\. Check that the SuperLink is running and that --superlink names its Fleet API address`,
      ),
    );
  });

  test("--max-wait-time 3: gives up after about 3 seconds", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await superNode([
      "--superlink",
      `127.0.0.1:${port}`,
      "--insecure",
      "--max-wait-time",
      "3",
    ]);
    expect(r.code, r.output).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
    expectOneErrorLine(r.output, /^ERROR :/, /Giving up reconnection to the SuperLink at /);
  });

  test("without a bound: keeps retrying and says why on every attempt", async () => {
    const port = await freePort();
    const sn = start(cliPath("flower-supernode"), [
      "--superlink",
      `127.0.0.1:${port}`,
      "--insecure",
      "--clientappio-api-address",
      `127.0.0.1:${await freePort()}`,
    ]);
    const retry = new RegExp(
      `Connection attempt failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\), retrying in`,
      "g",
    );
    await sn.waitFor(retry, 15_000);
    await expect
      .poll(() => sn.output().match(retry)?.length ?? 0, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2);
    expect(sn.child.exitCode).toBeNull();
    await sn.stop("SIGTERM");
  });
});

/**
 * `docs/getting-started.md` as a user would follow it: every code block that names a file
 * (```ts file=client_app.ts) is written into a scratch project whose `@flwr-ts/*` packages are
 * the built workspace packages (symlinked, as an install would place them), then
 *
 * 1. type-checked under `strict` with the TypeScript of the workspace (the published
 *    declarations, not the sources);
 * 2. `simulate.ts` run with tsx, printing the estimate the guide promises and writing the
 *    metrics chart;
 * 3. `flwr build` packs it (the guide's package.json is valid, ES module);
 * 4. section 6's insecure deployment started for real (SuperLink, two SuperNodes with their
 *    partitions, on free ports instead of the defaults) and `flwr run . local --stream`
 *    completing with both nodes' replies and the same estimate.
 *
 * Run `pnpm build` first.
 */
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { repoRoot } from "../interop/python.js";
import { waitForPort } from "./fixtures/deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, run, start, stopAll } from "./support/processes.js";

const guide = readFileSync(join(repoRoot, "docs/getting-started.md"), "utf8");
/** The guide's files: ```lang file=NAME … ``` blocks. */
const files = [...guide.matchAll(/^```\w+ file=(\S+)\n([\s\S]*?)^```$/gm)].map((m) => ({
  name: m[1]!,
  text: m[2]!,
}));
const PROMISED = "federated mean estimate: 8.313";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "flwr-guide-"));
  for (const f of files) writeFileSync(join(dir, f.name), f.text);
  mkdirSync(join(dir, "node_modules/@flwr-ts"), { recursive: true });
  for (const pkg of ["core", "crypto", "transport"])
    symlinkSync(join(repoRoot, "packages", `flwr-${pkg}`), join(dir, "node_modules/@flwr-ts", pkg));
});
afterAll(async () => {
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("docs/getting-started.md", () => {
  test("names the files a project needs", () => {
    expect(files.map((f) => f.name).sort()).toEqual([
      "client_app.ts",
      "package.json",
      "server_app.ts",
      "simulate.ts",
    ]);
    expect(guide).toContain(PROMISED);
  });

  test("its TypeScript type-checks under strict against the published declarations", () => {
    const require = createRequire(import.meta.url);
    const tsc = join(dirname(require.resolve("typescript/package.json")), "bin/tsc");
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [join(repoRoot, "node_modules/@types")],
        },
        files: files.filter((f) => f.name.endsWith(".ts")).map((f) => f.name),
      }),
    );
    const r = (() => {
      try {
        return {
          code: 0,
          out: execFileSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8" }),
        };
      } catch (e) {
        const err = e as { status: number; stdout: string };
        return { code: err.status, out: err.stdout };
      }
    })();
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);

  test("simulate.ts prints the promised estimate", () => {
    const tsx = createRequire(import.meta.url).resolve("tsx");
    const out = execFileSync(process.execPath, ["--import", tsx, "simulate.ts"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NODE_PATH: "" },
    });
    expect(out).toContain(PROMISED);
    // The ServerApp's chart of the evaluate metric.
    const html = readFileSync(join(dir, "metrics.html"), "utf8");
    expect(html).toMatch(/<svg [^>]*aria-label="mse"/);
    expect(html).toContain("<th>evaluate mse</th>");
  }, 60_000);

  test("flwr build packs it", async () => {
    const out = join(dir, "fabs");
    mkdirSync(out);
    const r = await run(cliPath("flwr"), ["build", dir, "--output", out], { cwd: dir });
    expect(r.code, r.output).toBe(0);
    expect(readdirSync(out), r.output).toContainEqual(
      expect.stringMatching(/^me\.mean-app\.1-0-0\.[0-9a-f]{8}\.fab$/),
    );
  }, 60_000);

  test("section 6's insecure deployment runs it with flwr run --stream", async () => {
    const ports = {
      fleet: await freePort(),
      control: await freePort(),
      serverappio: await freePort(),
      clientappio: [await freePort(), await freePort()],
    };
    const pkgFile = join(dir, "package.json");
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
    pkg.flwr.federations.local.address = `127.0.0.1:${ports.control}`;
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    const env = { FLWR_HOME: join(dir, "flwr-home"), NO_COLOR: "1" };
    start(
      cliPath("flower-superlink"),
      [
        "--insecure",
        "--fleet-api-address",
        `127.0.0.1:${ports.fleet}`,
        "--control-api-address",
        `127.0.0.1:${ports.control}`,
        "--serverappio-api-address",
        `127.0.0.1:${ports.serverappio}`,
        "--port",
        "0",
      ],
      { env, cwd: dir },
    );
    await Promise.all([waitForPort(ports.fleet), waitForPort(ports.control)]);
    const nodes = ports.clientappio.map((p, i) =>
      start(
        cliPath("flower-supernode"),
        [
          "--insecure",
          "--superlink",
          `127.0.0.1:${ports.fleet}`,
          "--clientappio-api-address",
          `127.0.0.1:${p}`,
          "--node-config",
          `partition-id=${i}`,
        ],
        { env, cwd: dir },
      ),
    );
    await Promise.all(nodes.map((n) => n.waitFor("SuperNode ID", 30_000)));
    const r = await run(cliPath("flwr"), ["run", ".", "local", "--stream"], {
      env,
      cwd: dir,
      timeoutMs: 180_000,
    });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain("aggregate_train: Received 2 results and 0 failures");
    expect(r.output).toContain(PROMISED);
  }, 240_000);
});

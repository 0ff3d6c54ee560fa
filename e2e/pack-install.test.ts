/**
 * Publishability: `pnpm pack` every package, install the tarballs with plain
 * `npm install` into a scratch project outside the workspace, and import each
 * package's public API under Node, with `import` and with `require` (Node 20.19+
 * loads ES modules from CommonJS; the exports carry a `default` condition for it).
 * Workspace dependencies (`workspace:^`) are rewritten by pnpm to `^<version>`
 * ranges (never exact pins, so two versions of core cannot be forced side by side),
 * and npm is pointed at the local tarballs through `overrides`. `pnpm publish
 * --dry-run` of each package lists LICENSE, README.md and the declarations, and no
 * tests or build info. A second project installs them with `--omit=optional`, as on a
 * machine without a C/C++ toolchain (better-sqlite3 is optional): the SuperLink's default
 * in-memory state works, and a SQLite `--database` says what to install.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { repoRoot } from "../interop/python.js";

const packages = ["flwr-core", "flwr-crypto", "flwr-transport", "flwr-ml"] as const;

let scratch: string;
const tarballs = new Map<string, string>();

function packageName(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, "packages", dir, "package.json"), "utf8"));
  return pkg.name as string;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "flwr-ts-pack-"));
  const packDir = join(scratch, "tarballs");
  for (const dir of packages) {
    execFileSync("pnpm", ["pack", "--pack-destination", packDir], {
      cwd: join(repoRoot, "packages", dir),
      stdio: "pipe",
    });
  }
  for (const file of readdirSync(packDir)) {
    const dir = packages.find((d) => file.startsWith(`flwr-ts-${d.slice("flwr-".length)}-`));
    if (dir) tarballs.set(packageName(dir), `file:${join(packDir, file)}`);
  }
  const app = join(scratch, "app");
  execFileSync("mkdir", ["-p", app]);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({
      name: "scratch",
      private: true,
      type: "module",
      dependencies: Object.fromEntries(tarballs),
      overrides: Object.fromEntries(tarballs),
    }),
  );
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: app,
    stdio: "pipe",
    env: { ...process.env, npm_config_nodedir: process.env["npm_config_nodedir"] ?? "/usr" },
  });
}, 600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("packed packages install and import outside the workspace", () => {
  test("every package was packed", () => {
    expect([...tarballs.keys()].sort()).toEqual(packages.map(packageName).sort());
  });

  test.each(packages.map(packageName))("import %s", (name) => {
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(name)}); console.log(JSON.stringify(Object.keys(m)));`,
      ],
      { cwd: join(scratch, "app"), encoding: "utf8" },
    );
    expect(Array.isArray(JSON.parse(out))).toBe(true);
    const pkg = JSON.parse(
      readFileSync(join(scratch, "app/node_modules", name, "package.json"), "utf8"),
    );
    // Type declarations ship with every package.
    expect(readdirSync(join(scratch, "app/node_modules", name, "dist"))).toContain("index.d.ts");
    expect(pkg.exports["."].types).toBe("./dist/index.d.ts");
    expect(pkg.license).toBe("Apache-2.0");
    for (const [dep, range] of Object.entries((pkg.dependencies ?? {}) as Record<string, string>)) {
      if (dep.startsWith("@flwr-ts/")) expect(range, dep).toMatch(/^\^\d+\.\d+\.\d+$/);
    }
  });

  test.each(packages.map(packageName))("require %s from CommonJS", (name) => {
    const out = execFileSync(
      process.execPath,
      ["-e", `console.log(Object.keys(require(${JSON.stringify(name)})).length)`],
      { cwd: join(scratch, "app"), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    expect(Number(out.trim())).toBeGreaterThan(0);
  });

  test.each(packages)("pnpm publish --dry-run of %s ships what it should", (dir) => {
    const out = execFileSync("pnpm", ["publish", "--dry-run", "--no-git-checks", "--json"], {
      cwd: join(repoRoot, "packages", dir),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const report = JSON.parse(out.slice(out.indexOf("{"))) as { files: { path: string }[] };
    const files = report.files.map((f) => f.path);
    expect(files).toContain("LICENSE");
    expect(files).toContain("README.md");
    expect(files).toContain("package.json");
    expect(files).toContain("dist/index.d.ts");
    expect(files.filter((f) => /\.test\.|\.suite\.|tsbuildinfo|(^|\/)test\//.test(f))).toEqual([]);
  });
});

describe("without the optional better-sqlite3 (no native addon)", () => {
  let lean: string;
  beforeAll(() => {
    lean = join(scratch, "lean");
    execFileSync("mkdir", ["-p", lean]);
    writeFileSync(
      join(lean, "package.json"),
      JSON.stringify({
        name: "lean",
        private: true,
        type: "module",
        dependencies: Object.fromEntries(tarballs),
        overrides: Object.fromEntries(tarballs),
      }),
    );
    execFileSync(
      "npm",
      ["install", "--omit=optional", "--no-audit", "--no-fund", "--loglevel=error"],
      { cwd: lean, stdio: "pipe" },
    );
  }, 600_000);

  // Vitest's NODE_PATH reaches the workspace's node_modules (where better-sqlite3 is): the
  // installed project must resolve on its own.
  const env = { ...process.env, NODE_PATH: "" };
  const bin = () => join(lean, "node_modules/@flwr-ts/transport/dist/cli/flower-superlink.js");
  const ephemeral = [
    "--fleet-api-address",
    "127.0.0.1:0",
    "--control-api-address",
    "127.0.0.1:0",
    "--serverappio-api-address",
    "127.0.0.1:0",
    "--port",
    "0",
  ];
  const superlink = (args: string[]) =>
    spawnSync(process.execPath, [bin(), ...args, ...ephemeral], {
      cwd: lean,
      env,
      encoding: "utf8",
      timeout: 20_000,
      killSignal: "SIGKILL",
    });

  test("better-sqlite3 is not installed", () => {
    expect(readdirSync(join(lean, "node_modules"))).not.toContain("better-sqlite3");
  });

  test("a SQLite --database fails with one line naming the package to install", () => {
    const r = superlink(["--insecure", "--database", join(lean, "state.db")]);
    expect(r.status, r.stdout + r.stderr).not.toBe(0);
    expect(r.signal).toBeNull();
    expect(r.stdout + r.stderr).toMatch(
      /optional package better-sqlite3.*npm install better-sqlite3/,
    );
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });

  test("the default in-memory state starts without it", async () => {
    const child = spawn(process.execPath, [bin(), "--insecure", ...ephemeral], {
      cwd: lean,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), 20_000);
      const seen = (d: Buffer) => {
        out += d;
        if (/Starting Control API/.test(out)) {
          clearTimeout(timer);
          resolve("serving");
        }
      };
      child.stdout.on("data", seen);
      child.stderr.on("data", seen);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve(`exited ${code}`);
      });
    });
    child.kill("SIGKILL");
    expect(outcome, out).toBe("serving");
  });
});

import { describe, expect, it } from "vitest";
import { demoFiles, makeApp, packageJson } from "../../test/support/fab-fixtures.js";
import { buildFab, sha256Hex } from "./build.js";
import { FabError } from "./errors.js";
import { PathSpec } from "./path-spec.js";
import { readFab, verifyFab } from "./read.js";
import { readZip, writeZip } from "./zip.js";

describe("zip", () => {
  it("round-trips entries and detects corruption", () => {
    const entries = [
      { name: "a.txt", data: new TextEncoder().encode("hello") },
      { name: "dir/ü.md", data: new Uint8Array(0) },
    ];
    const bytes = writeZip(entries);
    expect(readZip(bytes)).toEqual(entries);
    const corrupt = bytes.slice();
    corrupt[30 + 5] = "j".charCodeAt(0); // first byte of "hello"
    expect(() => readZip(corrupt)).toThrow(/CRC-32/);
    expect(() => readZip(bytes.subarray(0, 40))).toThrow(FabError);
  });
});

describe("PathSpec (gitignore rules)", () => {
  it("matches like gitwildmatch", () => {
    const s = new PathSpec(["*.log", "!keep.log", "/build/", "docs/**/*.tmp", "cache/"]);
    expect(s.matches("a.log")).toBe(true);
    expect(s.matches("x/b.log")).toBe(true);
    expect(s.matches("keep.log")).toBe(false);
    expect(s.matches("build/a.js")).toBe(true);
    expect(s.matches("src/build/a.js")).toBe(false);
    expect(s.matches("docs/a/b/c.tmp")).toBe(true);
    expect(s.matches("docs/c.tmp")).toBe(true);
    expect(s.matches("a/cache/b.ts")).toBe(true);
    expect(s.matches("cache")).toBe(false); // a file named cache: dir-only pattern
  });

  // Each expectation is what Python's pathspec (0.12.1 for flwr 1.29, 1.1.1 for 1.42)
  // answers for PathSpec.from_lines("gitwildmatch", patterns).match_file(path).
  it("re-includes a file below an excluded directory, as pathspec (not git) does", () => {
    const s = new PathSpec(["dir/", "!dir/keep.txt"]);
    expect(s.matches("dir/other.txt")).toBe(true);
    expect(s.matches("dir/keep.txt")).toBe(false);
    expect(s.matches("dir/sub/keep.txt")).toBe(true);
    const t = new PathSpec(["*", "!*.md"]);
    expect(t.matches("x/README.md")).toBe(false);
    expect(t.matches("x/a.ts")).toBe(true);
  });

  it("is case-sensitive", () => {
    const s = new PathSpec(["*.TS", "[ab].ts"]);
    expect(s.matches("A.TS")).toBe(true);
    expect(s.matches("a.ts")).toBe(true);
    expect(s.matches("c.ts")).toBe(false);
    expect(s.matches("B.ts")).toBe(false);
  });

  // Where the hand-written matcher this replaced differed from pathspec.
  it("reads a '[' that opens no class as a literal, where the old matcher threw", () => {
    const s = new PathSpec(["[a", "[]", "a[]]b"]);
    expect(s.matches("[a")).toBe(true);
    expect(s.matches("x/[]")).toBe(true);
    expect(s.matches("a]b")).toBe(true);
    expect(s.matches("a")).toBe(false);
    expect(s.matches("ab")).toBe(false);
  });

  it("matches files below a trailing '/**/', where the old matcher matched only directories", () => {
    const s = new PathSpec(["foo/**/"]);
    expect(s.matches("foo/bar")).toBe(true);
    expect(s.matches("foo/bar/baz")).toBe(true);
    expect(s.matches("foo")).toBe(false);
    expect(s.matches("x/foo/bar")).toBe(false);
  });
});

describe("buildFab / readFab", () => {
  it("packs pyproject.toml first, the selected files sorted, then .info/CONTENT", () => {
    const fab = buildFab(makeApp(demoFiles()));
    const entries = readZip(fab.bytes);
    const names = entries.map((e) => e.name);
    expect(names).toEqual([
      "pyproject.toml",
      "LICENSE",
      "README.md",
      "package.json",
      "src/client_app.ts",
      "src/server_app.ts",
      "src/task.ts",
      "tsconfig.json",
      ".info/CONTENT",
    ]);
    expect(fab.fabId).toBe("acme/demoapp");
    expect(fab.fabVersion).toBe("1.2.0");
    expect(fab.hash).toBe(sha256Hex(fab.bytes));
    expect(fab.fileName).toBe(`acme.demoapp.1-2-0.${fab.hash.slice(0, 8)}.fab`);
    // STORED entries with the fixed date 2024-10-01 00:00:00
    const view = new DataView(fab.bytes.buffer, fab.bytes.byteOffset);
    expect(view.getUint16(8, true)).toBe(0);
    expect(view.getUint16(10, true)).toBe(0);
    expect(view.getUint16(12, true)).toBe(((2024 - 1980) << 9) | (10 << 5) | 1);
    const manifest = new TextDecoder().decode(entries.at(-1)!.data);
    expect(manifest.endsWith("\n")).toBe(false);
    const lines = manifest.split("\n");
    expect(lines).toHaveLength(entries.length - 1);
    const readme = entries.find((e) => e.name === "README.md")!;
    expect(lines).toContain(`README.md,${sha256Hex(readme.data)},${readme.data.length * 8}`);
    const pyproject = new TextDecoder().decode(entries[0]!.data);
    expect(pyproject).toBe(
      [
        "[project]",
        'name = "demoapp"',
        'version = "1.2.0"',
        'description = "A demo"',
        'license = "Apache-2.0"',
        "dependencies = []",
        "",
        "[tool.flwr.app]",
        'publisher = "acme"',
        "",
        "[tool.flwr.app.components]",
        'serverapp = "src/server_app.ts:app"',
        'clientapp = "src/client_app.ts:app"',
        "",
        "[tool.flwr.app.config]",
        "num-server-rounds = 3",
        "fraction-evaluate = 0.5",
        "lr = 1.0",
        "",
        "[tool.flwr.app.config.opt]",
        "beta = 0.9",
        "",
      ].join("\n"),
    );
  });

  it("is deterministic and round-trips through readFab", () => {
    const dir = makeApp(demoFiles());
    const a = buildFab(dir);
    const b = buildFab(dir);
    expect(b.hash).toBe(a.hash);
    const r = readFab(a.bytes, { expectedHash: a.hash });
    expect(r.fabId).toBe("acme/demoapp");
    expect(r.fabVersion).toBe("1.2.0");
    expect(r.components).toEqual({
      serverapp: "src/server_app.ts:app",
      clientapp: "src/client_app.ts:app",
    });
    expect({ ...r.config }).toEqual({
      "num-server-rounds": 3n,
      "fraction-evaluate": 0.5,
      lr: 1,
      "opt.beta": 0.9,
    });
    expect(new TextDecoder().decode(r.files.get("src/task.ts"))).toBe("export const x = 3;\n");
    expect(r.files.has(".info/CONTENT")).toBe(false);
  });

  it("rejects tampered, mislabelled and oversized FABs with typed errors", () => {
    const fab = buildFab(makeApp(demoFiles()));
    const entries = readZip(fab.bytes);
    const tampered = writeZip(
      entries.map((e) =>
        e.name === "src/task.ts" ? { ...e, data: new TextEncoder().encode("evil();\n") } : e,
      ),
    );
    expect(() => readFab(tampered)).toThrow(/src\/task.ts has a different SHA-256/);
    const unlisted = writeZip([
      ...entries.slice(0, -1),
      { name: "x.ts", data: new Uint8Array(1) },
      entries.at(-1)!,
    ]);
    expect(() => readFab(unlisted)).toThrow(/x.ts is in the FAB but not in .info\/CONTENT/);
    expect(() => readFab(writeZip(entries.slice(0, -1)))).toThrow(/CONTENT is missing/);
    const unsafe = writeZip([{ name: "../evil.ts", data: new Uint8Array(1) }, ...entries]);
    expect(() => readFab(unsafe)).toThrow(/Unsafe path/);
    expect(() => verifyFab(fab.bytes, "0".repeat(64))).toThrow(/hash mismatch/);
    try {
      readFab(fab.bytes, { maxSize: 100 });
      throw new Error("expected too-large");
    } catch (err) {
      expect((err as FabError).code).toBe("too-large");
    }
    const badToml = writeZip([
      { name: "pyproject.toml", data: new TextEncoder().encode("[project]\nname = 'x'\n") },
      {
        name: ".info/CONTENT",
        data: new TextEncoder().encode(
          `pyproject.toml,${sha256Hex(new TextEncoder().encode("[project]\nname = 'x'\n"))},${21 * 8}`,
        ),
      },
    ]);
    expect(() => readFab(badToml)).toThrow(/Property "version" missing in \[project\]/);
  });

  it("enforces the 10 MiB cap with a clear error", () => {
    const files = demoFiles();
    files["data/big.json"] = new Uint8Array(10 * 1024 * 1024 + 1).fill(0x20);
    expect(() => buildFab(makeApp(files))).toThrow(
      /exceeds the maximum allowed size of 10,485,760 bytes.*fab-exclude/,
    );
  });

  it('refuses .ts/.js components of a package that is not "type": "module"', () => {
    for (const type of ["commonjs", undefined]) {
      const files = demoFiles();
      const pkg: Record<string, unknown> = { ...packageJson, type };
      if (type === undefined) delete pkg["type"];
      files["package.json"] = JSON.stringify(pkg);
      const error = (() => {
        try {
          buildFab(makeApp(files));
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(FabError);
      expect((error as Error).message).toMatch(
        type
          ? /has "type": "commonjs".*set "type": "module"/
          : /has no "type".*set "type": "module"/,
      );
    }
  });

  it("applies fab-include / fab-exclude like Flower and checks the components ship", () => {
    const files = demoFiles();
    const pkg = structuredClone(packageJson) as typeof packageJson & {
      flwr: { app: Record<string, unknown> };
    };
    pkg.flwr.app["fab-exclude"] = ["README.md"];
    files["package.json"] = JSON.stringify(pkg);
    expect(buildFab(makeApp(files)).files).not.toContain("README.md");
    pkg.flwr.app["fab-exclude"] = ["nothing-matches/**"];
    files["package.json"] = JSON.stringify(pkg);
    expect(() => buildFab(makeApp(files))).toThrow(/did not match any files/);
    pkg.flwr.app["fab-exclude"] = ["src/server_app.ts"];
    files["package.json"] = JSON.stringify(pkg);
    expect(() => buildFab(makeApp(files))).toThrow(/component module "src\/server_app.ts"/);
  });
});

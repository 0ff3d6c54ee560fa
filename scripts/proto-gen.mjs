#!/usr/bin/env node
/**
 * Regenerates the TypeScript protobuf code of @flwr-ts/core from `proto/flwr/proto/*.proto`
 * and `proto/runtime-1.42/flwr/proto/*.proto` (flwr 1.42's Runtime API, generated in a second
 * buf run) with buf and the workspace's ts-proto plugin (`proto/buf.gen.yaml`).
 *
 *   node scripts/proto-gen.mjs           clean `packages/flwr-core/src/proto/generated`, regenerate
 *   node scripts/proto-gen.mjs --check   regenerate into a temporary directory and fail (exit 1)
 *                                        listing every file that differs from the committed output
 *
 * No dependencies beyond Node and the workspace's node_modules (buf runs offline).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "proto");
const templatePath = join(protoDir, "buf.gen.yaml");
const generatedDir = join(root, "packages/flwr-core/src/proto/generated");
const bufBin = join(root, "node_modules/@bufbuild/buf/bin/buf");
const pluginBin = join(root, "node_modules/.bin/protoc-gen-ts_proto");
/** flwr 1.42's Runtime API files: a module of their own (proto/buf.yaml). */
const runtimeModuleFiles = "proto/runtime-1.42/flwr";
/** One `buf generate` per module: the 1.29 files, then the 1.42 Runtime API files. */
const MODULE_SELECTIONS = [
  ["--exclude-path", runtimeModuleFiles],
  ["--path", runtimeModuleFiles],
];

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== "--check");
if (unknown.length > 0) {
  fail(`unknown argument(s): ${unknown.join(" ")}\nusage: node scripts/proto-gen.mjs [--check]`);
}
const check = args.includes("--check");

/** Prints an error and exits with status 1. */
function fail(message) {
  console.error(`proto-gen: ${message}`);
  process.exit(1);
}

/** Lists the files under `dir` (relative, `/`-separated, sorted); [] when `dir` is missing. */
function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

/**
 * Runs `buf generate` with the committed template, writing into `outDir` instead of the
 * template's `out` (the template is rewritten into a temporary copy with only that line changed).
 */
function generate(outDir) {
  for (const [what, path] of [
    ["buf", bufBin],
    ["protoc-gen-ts_proto", pluginBin],
  ]) {
    if (!existsSync(path)) fail(`${what} not found at ${path}; run \`pnpm install\` first`);
  }
  const template = readFileSync(templatePath, "utf8");
  const outLine = /^(\s*out:\s*).*$/m;
  const localLine = /^(\s*-\s*local:\s*).*$/m;
  if (!outLine.test(template) || !localLine.test(template)) {
    fail(`${relative(root, templatePath)} must contain one "local:" plugin with an "out:" line`);
  }
  const work = mkdtempSync(join(tmpdir(), "flwr-proto-gen-"));
  try {
    const tmpTemplate = join(work, "buf.gen.yaml");
    writeFileSync(
      tmpTemplate,
      template
        .replace(outLine, (_m, p) => `${p}${JSON.stringify(outDir)}`)
        .replace(localLine, (_m, p) => `${p}${JSON.stringify(pluginBin)}`),
    );
    // The two modules of proto/buf.yaml never compile together (runtime.proto reuses
    // names of serverappio.proto messages): one run each, into the same directory (the
    // runtime files import message.ts & co. of the first run).
    for (const select of MODULE_SELECTIONS) {
      const res = spawnSync(bufBin, ["generate", protoDir, "--template", tmpTemplate, ...select], {
        cwd: root,
        encoding: "utf8",
      });
      if (res.error) fail(`could not run buf: ${res.error.message}`);
      if (res.status !== 0) {
        fail(
          `buf generate ${select.join(" ")} failed (exit ${res.status}):\n${res.stderr}${res.stdout}`,
        );
      }
      if (res.stderr.trim()) process.stderr.write(res.stderr);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const files = listFiles(outDir);
  if (files.length === 0) fail("buf generate produced no files");
  return files;
}

/** Describes where the committed and the fresh copy of `file` first differ. */
function firstDiff(freshDir, file) {
  const a = readFileSync(join(generatedDir, file), "utf8").split("\n");
  const b = readFileSync(join(freshDir, file), "utf8").split("\n");
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      const show = (l) =>
        l === undefined ? "<end of file>" : JSON.stringify(l.trim().slice(0, 60));
      return `line ${i + 1}: committed ${show(a[i])}, expected ${show(b[i])}`;
    }
  }
  return "line endings or encoding";
}

if (!check) {
  rmSync(generatedDir, { recursive: true, force: true });
  const files = generate(generatedDir);
  console.log(`proto-gen: wrote ${files.length} files to ${relative(root, generatedDir)}`);
} else {
  const tmpOut = mkdtempSync(join(tmpdir(), "flwr-proto-check-"));
  try {
    const fresh = generate(tmpOut);
    const committed = listFiles(generatedDir);
    const missing = fresh.filter((f) => !committed.includes(f));
    const extra = committed.filter((f) => !fresh.includes(f));
    const changed = fresh.filter(
      (f) =>
        committed.includes(f) &&
        !readFileSync(join(tmpOut, f)).equals(readFileSync(join(generatedDir, f))),
    );
    if (missing.length + extra.length + changed.length > 0) {
      const lines = [
        `generated code in ${relative(root, generatedDir)} is out of date with proto/:`,
        ...missing.map((f) => `  missing (would be generated): ${f}`),
        ...extra.map((f) => `  stale (would be deleted):     ${f}`),
        ...changed.map((f) => `  differs:                      ${f} (${firstDiff(tmpOut, f)})`),
        "run `pnpm proto:gen` and commit the result (never edit generated files by hand)",
      ];
      fail(lines.join("\n"));
    }
    console.log(`proto-gen: ${fresh.length} generated files are up to date`);
  } finally {
    rmSync(tmpOut, { recursive: true, force: true });
  }
}

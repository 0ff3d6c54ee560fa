/**
 * Compiles src/net_step.c into build/flwr_ml_native.node at install time, on
 * the machine that will run it (hence -march=native: AVX2/AVX-512 FMA where
 * the CPU has them; retried without it if the compiler refuses). It calls the
 * C compiler directly against the running Node's headers (N-API needs no
 * library to link against) instead of node-gyp, which would need Python and,
 * offline, npm_config_nodedir. The addon is optional: any failure prints a
 * warning and exits 0, and @flwr-ts/ml then trains on tfjs wasm.
 *
 *   node scripts/build.mjs [--force]
 *
 * It also writes build/target.json (the -march and CPU model built for), which
 * index.cjs checks before loading.
 *
 * Environment: CC (default cc), FLWR_ML_NATIVE_BUILD=0 skips the build,
 * FLWR_ML_NATIVE_MARCH (default native) sets -march, npm_config_nodedir
 * names a Node tree whose include/node holds node_api.h.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "src", "net_step.c");
const out = join(root, "build", "flwr_ml_native.node");
const force = process.argv.includes("--force");

function warn(message) {
  process.stderr.write(
    `@flwr-ts/ml-native: ${message}; flwr-ml will train on tfjs wasm instead (optional addon)\n`,
  );
}

function headers() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, "include", "node"),
    join(dirname(process.execPath), "..", "include", "node"),
    "/usr/include/node",
    "/usr/local/include/node",
  ].filter(Boolean);
  return candidates.find((dir) => existsSync(join(dir, "node_api.h")));
}

function main() {
  if (process.env.FLWR_ML_NATIVE_BUILD === "0") {
    warn("build skipped (FLWR_ML_NATIVE_BUILD=0)");
    return;
  }
  const built = existsSync(out) && existsSync(join(root, "build", "target.json"));
  if (!force && built && statSync(out).mtimeMs >= statSync(source).mtimeMs) return;
  if (process.platform === "win32") {
    warn("not built: the build script supports gcc/clang (Linux, macOS) only");
    return;
  }
  const include = headers();
  if (!include) {
    warn("not built: node_api.h not found (install Node's headers or set npm_config_nodedir)");
    return;
  }
  mkdirSync(dirname(out), { recursive: true });
  const cc = process.env.CC || "cc";
  const march = process.env.FLWR_ML_NATIVE_MARCH || "native";
  const tmp = `${out}.tmp`;
  const base = [
    "-O3",
    "-std=c11",
    "-D_POSIX_C_SOURCE=200112L",
    "-fopenmp-simd",
    "-fPIC",
    "-shared",
    "-fvisibility=hidden",
    `-I${include}`,
    source,
    "-o",
    tmp,
    "-lm",
  ];
  if (process.platform === "darwin") base.push("-undefined", "dynamic_lookup");
  let last = "";
  for (const flags of [[`-march=${march}`], []]) {
    const r = spawnSync(cc, [...flags, ...base], { encoding: "utf8" });
    if (r.status === 0) {
      // What the addon was built for: index.cjs refuses a -march=native build on another CPU
      // (its instructions could crash the process with SIGILL instead of failing to load).
      const target = {
        march: flags.length ? march : "default",
        cpu: cpus()[0]?.model ?? "",
        arch: process.arch,
      };
      writeFileSync(join(root, "build", "target.json"), `${JSON.stringify(target)}\n`);
      renameSync(tmp, out);
      process.stderr.write(`@flwr-ts/ml-native: built ${out} (${cc} -O3 ${flags.join(" ")})\n`);
      return;
    }
    last = (r.error?.message ?? r.stderr ?? "").trim().split("\n").slice(0, 3).join(" | ");
  }
  rmSync(tmp, { force: true });
  warn(`not built: ${cc} failed: ${last}`);
}

try {
  main();
} catch (error) {
  warn(`not built: ${error instanceof Error ? error.message : String(error)}`);
}

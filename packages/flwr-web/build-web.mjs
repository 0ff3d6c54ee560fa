/**
 * Builds the browser SuperNode page into dist-web/: index.html, main.js (the page module) and
 * worker.js (the training Web Worker), ES modules bundled by esbuild for the browser.
 *
 * Shared workspace code imports a few Node built-ins in modules the page does not use (config
 * files, FAB zips, worker threads); those imports resolve to stubs that throw when called, and
 * the build fails if any stub is still referenced by the bundle (metafile check), so nothing
 * Node-only ships. `node:crypto` is the exception: it resolves to src/shims/node-crypto.ts
 * (SHA-256 from @noble/hashes, WebCrypto), which core's object ids need.
 *
 * Usage: node build-web.mjs [--out DIR] [--no-minify]
 */
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const outDir = outIndex >= 0 ? args[outIndex + 1] : join(here, "dist-web");
const minify = !args.includes("--no-minify");

const STUB_NS = "node-stub";

/** What a stub is made of; the build fails when this marker is left in a bundle. */
const STUB_MARKER = "__flwrNodeStub";

/**
 * `node:*` and bare built-ins → modules of stubs that throw when called (each export of the
 * real module, so every import resolves); `node:crypto` re-exports src/shims/node-crypto.ts's
 * functions and stubs the rest.
 */
const nodeStubs = {
  name: "node-stubs",
  setup(b) {
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    b.onResolve({ filter: /.*/ }, (a) => {
      if (!builtins.has(a.path)) return undefined;
      const name = a.path.replace(/^node:/, "");
      if (name === "buffer") return undefined; // the npm package of the same name
      // CommonJS packages (tfjs's Node platform, seedrandom) require() built-ins only when they
      // run on Node (tfjs maps them to `false` in its "browser" field): an empty object.
      if (a.kind === "require-call" && /node_modules/.test(a.importer))
        return { path: name, namespace: "node-empty" };
      return { path: name, namespace: STUB_NS, sideEffects: false };
    });
    b.onLoad({ filter: /.*/, namespace: "node-empty" }, () => ({
      contents: "module.exports = {};",
      loader: "js",
    }));
    b.onLoad({ filter: /.*/, namespace: STUB_NS }, async (a) => {
      const real = await import(`node:${a.path}`);
      const shim = a.path === "crypto" ? join(here, "src/shims/node-crypto.ts") : undefined;
      const shimmed = shim
        ? Object.keys(await import("./src/shims/node-crypto-names.mjs").then((m) => m.NAMES))
        : [];
      const names = Object.keys(real).filter(
        (n) => n !== "default" && /^[A-Za-z_$][\w$]*$/.test(n) && !shimmed.includes(n),
      );
      const lines = [];
      if (shim) lines.push(`export { ${shimmed.join(", ")} } from ${JSON.stringify(shim)};`);
      for (const n of names)
        lines.push(
          `export function ${n}() { throw new Error("${STUB_MARKER}: node:${a.path}.${n} is not available in the browser"); }`,
        );
      lines.push("export default {};");
      return { contents: lines.join("\n"), loader: "js", resolveDir: here };
    });
  },
};

/**
 * The workspace packages' modules have no import-time side effects (one bare import, tfjs's cpu
 * backend in flwr-ml's tf.ts, is a node_modules package and unaffected): tell esbuild so, so that
 * re-exports the page does not use (config files, FABs, CIFAR-10 archives) are dropped with
 * their Node imports.
 */
const workspacePure = {
  name: "workspace-pure",
  setup(b) {
    const src = /[\\/]packages[\\/]flwr-(core|ml)[\\/]src[\\/].*\.ts$/;
    b.onResolve({ filter: /^\.\.?\// }, async (a) => {
      if (a.pluginData === "workspace-pure") return undefined;
      if (!/[\\/]packages[\\/]flwr-(core|ml)[\\/]src[\\/]/.test(a.importer)) return undefined;
      const r = await b.resolve(a.path, {
        kind: a.kind,
        importer: a.importer,
        resolveDir: a.resolveDir,
        pluginData: "workspace-pure",
      });
      if (r.errors.length > 0) return { errors: r.errors };
      return { ...r, sideEffects: !src.test(r.path) };
    });
    b.onResolve({ filter: /^@flwr-ts\/(core|ml)(\/.*)?$/ }, async (a) => {
      if (a.pluginData === "workspace-pure") return undefined;
      const r = await b.resolve(a.path, {
        kind: a.kind,
        importer: a.importer,
        resolveDir: a.resolveDir,
        pluginData: "workspace-pure",
      });
      if (r.errors.length > 0) return { errors: r.errors };
      return { ...r, sideEffects: !src.test(r.path) };
    });
  },
};

const result = await build({
  entryPoints: {
    main: join(here, "src/page/main.ts"),
    worker: join(here, "src/page/training-worker.ts"),
  },
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["chrome120", "firefox120", "safari17"],
  conditions: ["source"],
  inject: [join(here, "src/shims/node-globals.ts")],
  outdir: outDir,
  absWorkingDir: process.cwd(),
  minify,
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
  plugins: [nodeStubs, workspacePure],
  define: { "process.env.NODE_ENV": '"production"' },
});

/**
 * Stubs that may stay in worker.js: flwr-ml's `train()`/`test()` reference its Node-only engines —
 * the worker-thread data-parallel pool (`parallel/worker-pool.ts`, `data-parallel.ts`) and the
 * native addon loader (`native-net-step.ts`) — which the worker never reaches: it trains with
 * `workers: 1` and the bundle's `process.env.FLWR_ML_NATIVE` is "0" (src/shims/node-globals.ts).
 * Anything else fails the build.
 */
const UNREACHED_IN_WORKER = new Set([
  "node:path.dirname",
  "node:path.join",
  "node:module.createRequire",
  "node:url.fileURLToPath",
  "node:url.pathToFileURL",
  "node:os.availableParallelism",
  "node:worker_threads.MessageChannel",
  "node:worker_threads.Worker",
  "node:worker_threads.receiveMessageOnPort",
]);

const used = [];
for (const file of Object.keys(result.metafile.outputs)) {
  if (!file.endsWith(".js")) continue;
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(new RegExp(`${STUB_MARKER}: (node:[\\w/.]+)`, "g")))
    if (!(file.endsWith("worker.js") && UNREACHED_IN_WORKER.has(m[1])))
      used.push(`${file}: ${m[1]}`);
}
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "meta.json"), JSON.stringify(result.metafile));
if (used.length > 0) {
  console.error(`Node built-ins still used by the browser bundle:\n  ${used.join("\n  ")}`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
copyFileSync(join(here, "src/page/index.html"), join(outDir, "index.html"));
const sizes = ["main.js", "worker.js"].map(
  (f) => `${f} ${(statSync(join(outDir, f)).size / 1024).toFixed(0)} KiB`,
);
console.log(`browser SuperNode page built in ${outDir}: ${sizes.join(", ")}`);

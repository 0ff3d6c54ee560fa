/**
 * Starting a worker thread on a module of this package, from the compiled JavaScript (`dist/`) or
 * from the TypeScript sources (tests, tsx), where the worker registers tsx's loader itself: a
 * worker does not inherit its parent's loader hooks.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * Starts a worker running the module `name` (without extension) next to `base` (an
 * `import.meta.url` of this package).
 * @throws Error when running from sources and `tsx` cannot be found.
 */
export function startModuleWorker(
  base: string,
  name: string,
  options: Omit<WorkerOptions, "eval" | "execArgv"> = {},
): Worker {
  let code: string;
  if (base.endsWith(".js")) {
    code = `await import(${JSON.stringify(new URL(`./${name}.js`, base).href)});`;
  } else {
    let api: string;
    try {
      const tsx = dirname(createRequire(fileURLToPath(base)).resolve("tsx/package.json"));
      api = pathToFileURL(join(tsx, "dist", "esm", "api", "index.mjs")).href;
    } catch {
      throw new Error(
        `worker ${name} started from TypeScript sources needs the \`tsx\` package; build the package (dist)`,
      );
    }
    const entry = new URL(`./${name}.ts`, base).href;
    code = `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(entry)});`;
  }
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
    ...options,
    execArgv: [],
  });
}

/**
 * `buildFab(appDir)`: packs a flwr-ts app into a Flower App Bundle, in Flower's format:
 * a zip of STORED entries dated 2024-10-01 00:00:00 holding, in order, a generated
 * `pyproject.toml` (see `pyproject.ts`), the selected app files sorted by path (see
 * `fab-files.ts`; `package.json` included), and `.info/CONTENT` — one
 * `path,sha256hex,size_in_bits` line per file, joined by `\n` without a trailing newline.
 * The FAB's hash is the SHA-256 of the zip; FABs over 10 MiB are rejected.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type AppConfig, loadAppConfig } from "../config/app-config.js";
import { FabError } from "./errors.js";
import { selectFabFiles } from "./fab-files.js";
import { FAB_MAX_SIZE, fabFileName } from "./fab-id.js";
import { generatePyproject } from "./pyproject.js";
import { writeZip, type ZipEntry } from "./zip.js";

/** A built FAB. */
export interface BuiltFab {
  /** The zip bytes. */
  readonly bytes: Uint8Array;
  /** SHA-256 hex of `bytes`. */
  readonly hash: string;
  /** `<publisher>/<name>`. */
  readonly fabId: string;
  /** The app version. */
  readonly fabVersion: string;
  /** `flwr build`'s file name: `<publisher>.<name>.<version>.<hash8>.fab`. */
  readonly fileName: string;
  /** The app configuration the FAB was built from. */
  readonly app: AppConfig;
  /** The bundled app files (without `pyproject.toml` and `.info/CONTENT`), in FAB order. */
  readonly files: readonly string[];
}

/** Path of the manifest inside a FAB. */
export const FAB_CONTENT_PATH = ".info/CONTENT";

/** SHA-256 hex of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Options of {@link buildFab}. */
export interface BuildFabOptions {
  /** Maximum FAB size in bytes (default 10 MiB, Flower's cap). */
  maxSize?: number;
}

const tooLarge = (size: number, max: number) =>
  new FabError(
    "too-large",
    `FAB size ${size.toLocaleString("en-US")} bytes exceeds the maximum allowed size of ` +
      `${max.toLocaleString("en-US")} bytes. To reduce package size, narrow "fab-include" or add ` +
      `"fab-exclude" patterns in the "flwr.app" section of package.json, or list large files in .gitignore.`,
  );

/**
 * flwr-ts loads components as ES modules (they `import` `@flwr-ts/core`, which has no CommonJS
 * build). A `.ts`/`.js` component of a package whose `package.json` is not `"type": "module"`
 * (npm 11's `npm init -y` writes `"type": "commonjs"`) would be compiled as CommonJS and fail at
 * run time on the SuperNode, so the build refuses it; `.mts`/`.mjs` components are ESM anyway.
 * @throws FabError (`bad-app`) naming the file and the fix.
 */
function checkModuleType(root: string, modules: readonly string[]): void {
  if (!modules.some((m) => /\.(ts|js|tsx|jsx)$/.test(m))) return;
  const file = join(root, "package.json");
  const type = (JSON.parse(readFileSync(file, "utf8")) as { type?: unknown }).type;
  if (type === "module") return;
  throw new FabError(
    "bad-app",
    `${file} has ${type === undefined ? 'no "type"' : `"type": ${JSON.stringify(type)}`}, so Node ` +
      'would load the app\'s .ts/.js components as CommonJS; flwr-ts apps are ES modules: set "type": "module" in it',
  );
}

/**
 * Builds the FAB of the app in `appDir` (reads its `package.json` `flwr` section).
 * @throws AppConfigError for an invalid package.json; FabError (`too-large`, `bad-app`).
 */
export function buildFab(appDir: string, options: BuildFabOptions = {}): BuiltFab {
  const root = resolve(appDir);
  const max = options.maxSize ?? FAB_MAX_SIZE;
  const app = loadAppConfig(root);
  const files = selectFabFiles(root, { include: app.fabInclude, exclude: app.fabExclude });
  for (const c of [app.components.serverapp, app.components.clientapp]) {
    if (!files.includes(c.module)) {
      throw new FabError(
        "bad-app",
        `component module "${c.module}" (from "${c.ref}") is not among the bundled files; ` +
          "check the path, .gitignore and fab-include/fab-exclude",
      );
    }
  }
  checkModuleType(root, [app.components.serverapp.module, app.components.clientapp.module]);
  const entries: ZipEntry[] = [
    { name: "pyproject.toml", data: new TextEncoder().encode(generatePyproject(app)) },
  ];
  let total = entries[0]!.data.length;
  for (const path of files) {
    const data = new Uint8Array(readFileSync(join(root, path)));
    total += data.length;
    if (total > max) throw tooLarge(total, max);
    entries.push({ name: path, data });
  }
  const manifest = entries
    .map((e) => `${e.name},${sha256Hex(e.data)},${e.data.length * 8}`)
    .join("\n");
  entries.push({ name: FAB_CONTENT_PATH, data: new TextEncoder().encode(manifest) });
  const bytes = writeZip(entries);
  if (bytes.length > max) throw tooLarge(bytes.length, max);
  const hash = sha256Hex(bytes);
  return {
    bytes,
    hash,
    fabId: app.fabId,
    fabVersion: app.version,
    fileName: fabFileName(app.publisher, app.name, app.version, hash),
    app,
    files,
  };
}

/**
 * Which files of an app directory go into its FAB.
 *
 * Built-in includes (the TypeScript counterparts of Flower's `**\/*.py` …):
 * {@link FAB_INCLUDE_PATTERNS}. Built-in excludes, which cannot be overridden:
 * {@link FAB_EXCLUDE_PATTERNS} — notably `node_modules`, build output, tests, the `.flwr`
 * directory, lock files, any root `pyproject.toml` (the FAB's own is generated), and the
 * `certificates/`, `keys/` and `datasets/` directories of the seed layout, so TLS material,
 * SuperNode keys and node-local data never ship. The root `.gitignore` is respected, and
 * `flwr.app["fab-include"]`/`["fab-exclude"]` narrow the selection as in Flower.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FabError } from "./errors.js";
import { PathSpec } from "./path-spec.js";

/** Files a FAB may contain. */
export const FAB_INCLUDE_PATTERNS: readonly string[] = [
  "**/*.ts",
  "**/*.mts",
  "**/*.cts",
  "**/*.js",
  "**/*.mjs",
  "**/*.cjs",
  "**/*.json",
  "**/*.jsonl",
  "**/*.md",
  "**/*.toml",
  "**/*.yaml",
  "**/*.yml",
  "/LICENSE",
];

/** Files a FAB never contains. */
export const FAB_EXCLUDE_PATTERNS: readonly string[] = [
  ".flwr/**",
  ".git/**",
  "node_modules/",
  "dist/**",
  "build/**",
  "coverage/**",
  ".venv/**",
  "venv/**",
  "certificates/**",
  "keys/**",
  "datasets/**",
  "/pyproject.toml",
  "package-lock.json",
  "pnpm-lock.yaml",
  "yarn.lock",
  "**/*.test.ts",
  "**/*.test.mts",
  "**/*.test.js",
  "**/*.test.mjs",
  "**/*.spec.ts",
  "**/*.spec.js",
  "**/*.d.ts.map",
  "**/*.js.map",
];

/** Directories never walked (large and always excluded). */
const PRUNE = new Set(["node_modules", ".git", ".flwr"]);

/** Deepest allowed path (number of parts), as Flower's `MAX_DIR_DEPTH`. */
export const MAX_DIR_DEPTH = 10;

/** Lists the regular files under `root` as sorted POSIX paths (symlinks skipped). */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const path = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isSymbolicLink()) continue;
      if (ent.isDirectory()) {
        if (!PRUNE.has(ent.name)) walk(join(dir, ent.name), path);
      } else if (ent.isFile()) out.push(path);
    }
  };
  walk(root, "");
  return out.sort();
}

function userSpec(patterns: readonly string[], key: string, paths: readonly string[]): PathSpec {
  for (const p of patterns) {
    let one: PathSpec;
    try {
      one = new PathSpec([p]);
    } catch (err) {
      throw new FabError(
        "bad-app",
        `Invalid pattern in "${key}": "${p}" (${(err as Error).message})`,
      );
    }
    if (!paths.some((f) => one.matches(f))) {
      throw new FabError(
        "bad-app",
        `Pattern in "${key}" did not match any files: "${p}". Correct the pattern or remove it.`,
      );
    }
  }
  return new PathSpec(patterns);
}

/** Options of {@link selectFabFiles}. */
export interface SelectOptions {
  /** `fab-include` patterns. */
  include?: readonly string[];
  /** `fab-exclude` patterns. */
  exclude?: readonly string[];
}

/**
 * Selects the files of `root` that go into the FAB, sorted.
 * @throws FabError (`bad-app`) for include/exclude patterns that are invalid or match
 *   nothing, or paths deeper than {@link MAX_DIR_DEPTH}.
 */
export function selectFabFiles(root: string, options: SelectOptions = {}): string[] {
  const all = listFiles(root);
  let gitignore: string[] = [];
  if (all.includes(".gitignore")) {
    gitignore = readFileSync(join(root, ".gitignore"), "utf8").split(/\r?\n/);
  }
  const ignored = new PathSpec(gitignore);
  const builtInInclude = new PathSpec(FAB_INCLUDE_PATTERNS);
  // As Flower's publish filter: .gitignore and the allowed file types first, then the user's
  // include/exclude patterns, then the non-overridable exclusions.
  let candidates = all.filter((p) => !ignored.matches(p) && builtInInclude.matches(p));
  const builtInExclude = new PathSpec(FAB_EXCLUDE_PATTERNS);
  if (options.include !== undefined) {
    const spec = userSpec(options.include, "fab-include", candidates);
    candidates = candidates.filter((p) => spec.matches(p));
  }
  if (options.exclude !== undefined) {
    const spec = userSpec(options.exclude, "fab-exclude", candidates);
    candidates = candidates.filter((p) => !spec.matches(p));
  }
  const selected = candidates.filter(
    (p) => builtInInclude.matches(p) && !builtInExclude.matches(p),
  );
  for (const p of selected) {
    if (p.split("/").length > MAX_DIR_DEPTH) {
      throw new FabError(
        "bad-app",
        `'${p}' in the project exceeds the maximum directory depth of ${MAX_DIR_DEPTH}. Consider refactoring your project structure to reduce nesting.`,
      );
    }
  }
  return selected;
}

/**
 * Test helper: compiles TypeScript that uses standard (TC39) decorators with the TypeScript
 * compiler and imports it. Vitest's transform (Vite 8 / oxc) does not lower standard
 * decorators, so decorator tests compile their fixtures exactly as `tsc` would for users.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

let counter = 0;

/** Transpiles `source` (ES2022, ESM, standard decorators) and imports the result. */
export async function importDecorated<T>(source: string): Promise<T> {
  const out = ts.transpileModule(source, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      experimentalDecorators: false,
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "flwr-decorators-"));
  const file = join(dir, `fixture-${counter++}.mjs`);
  writeFileSync(file, out.outputText);
  return (await import(pathToFileURL(file).href)) as T;
}

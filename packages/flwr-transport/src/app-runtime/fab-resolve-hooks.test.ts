/**
 * The FAB resolve hooks in a real Node loader (a child process: the hooks run in Node's loader
 * thread, which vitest's module runner bypasses): an app under the apps root imports a package
 * it does not ship (`zod`, installed beside the runtime) and gets the installation's copy; a
 * package installed nowhere fails with Node's own "Cannot find package" error.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";

const root = mkdtempSync(join(tmpdir(), "flwr-fab-hooks-"));
const appDir = join(root, "apps", "flwrts.zod-app.1.0.0");
mkdirSync(appDir, { recursive: true });
writeFileSync(
  join(appDir, "uses-zod.mjs"),
  'import { z } from "zod";\nexport const app = z.object({ n: z.number() }).parse({ n: 3 });\n',
);
writeFileSync(
  join(appDir, "uses-missing.mjs"),
  'import "flwr-ts-no-such-package-anywhere";\nexport const app = 1;\n',
);
const loader = fileURLToPath(new URL("./app-loader.ts", import.meta.url));
const script = join(root, "load.mjs");
writeFileSync(
  script,
  `import { loadComponent, registerAppLoader } from ${JSON.stringify(loader)};
registerAppLoader(${JSON.stringify(join(root, "apps"))});
try {
  const value = await loadComponent(${JSON.stringify(appDir)}, process.argv[2], "app");
  console.log(JSON.stringify({ value }));
} catch (error) {
  console.log(JSON.stringify({ error: error.message }));
}
`,
);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Loads `module`'s `app` export in a fresh Node process whose cwd is the scratch directory. */
function load(module: string): { value?: unknown; error?: string } {
  const out = execFileSync(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), script, module],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  return JSON.parse(out.trim().split("\n").at(-1)!) as { value?: unknown; error?: string };
}

describe("FAB resolve hooks", () => {
  test("a package the FAB does not ship resolves from the installation", () => {
    expect(load("uses-zod.mjs")).toEqual({ value: { n: 3 } });
  });

  test("a package installed nowhere keeps Node's error, naming the package", () => {
    const r = load("uses-missing.mjs");
    expect(r.value).toBeUndefined();
    expect(r.error).toMatch(
      /Failed to import 'uses-missing\.mjs': .*Cannot find package 'flwr-ts-no-such-package-anywhere'/,
    );
  });
});

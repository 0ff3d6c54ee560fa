/** `loadComponent`'s errors: a missing module, a failing import, a missing export (with the right class in the hint). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { AppLoadError, loadComponent } from "./app-loader.js";

const dir = mkdtempSync(join(tmpdir(), "flwr-app-loader-"));
writeFileSync(
  join(dir, "ok.mjs"),
  "export const app = { kind: 'app' };\nexport const nested = { inner: 7 };\n",
);
writeFileSync(join(dir, "throws.mjs"), "throw new Error('broken at import');\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadComponent", () => {
  test("returns the export, walking dotted names", async () => {
    expect(await loadComponent(dir, "ok.mjs", "app", "ClientApp")).toEqual({ kind: "app" });
    expect(await loadComponent(dir, "ok.mjs", "nested.inner")).toBe(7);
  });

  test("a missing export names the class the component should be", async () => {
    await expect(loadComponent(dir, "ok.mjs", "clientApp", "ClientApp")).rejects.toThrow(
      "'ok.mjs' has no export 'clientApp'. Export the app, e.g. `export const clientApp = new ClientApp()`.",
    );
    await expect(loadComponent(dir, "ok.mjs", "serverApp", "ServerApp")).rejects.toThrow(
      "e.g. `export const serverApp = new ServerApp()`.",
    );
    await expect(loadComponent(dir, "ok.mjs", "x")).rejects.toThrow(
      "`export const x = new ClientApp()` (or `new ServerApp()`).",
    );
  });

  test("a missing module and a failing import are AppLoadErrors naming the module", async () => {
    await expect(loadComponent(dir, "nope.mjs", "app")).rejects.toThrow(
      /The app module 'nope\.mjs' does not exist/,
    );
    const error = await loadComponent(dir, "throws.mjs", "app").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppLoadError);
    expect((error as Error).message).toMatch(/Failed to import 'throws\.mjs': .*broken at import/);
  });
});

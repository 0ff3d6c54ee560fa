/** Test support: a small flwr-ts app directory for FAB tests. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Writes files (path → content) under a fresh temp directory named `name`. */
export function makeApp(files: Record<string, string | Uint8Array>, name = "demoapp"): string {
  const root = join(mkdtempSync(join(tmpdir(), "flwr-fab-")), name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

export const packageJson = {
  name: "@acme/demoapp",
  version: "1.2.0",
  description: "A demo",
  type: "module",
  license: "Apache-2.0",
  flwr: {
    app: {
      publisher: "acme",
      components: { serverapp: "src/server_app.ts:app", clientapp: "src/client_app.ts:app" },
      config: {
        "num-server-rounds": 3,
        "fraction-evaluate": 0.5,
        lr: { $float: 1 },
        opt: { beta: 0.9 },
      },
    },
    federations: { default: "local", local: { address: "127.0.0.1:9093", insecure: true } },
  },
};

export function demoFiles(): Record<string, string | Uint8Array> {
  return {
    "package.json": JSON.stringify(packageJson, null, 2),
    "src/server_app.ts": "export const app = 1;\n",
    "src/client_app.ts": "export const app = 2;\n",
    "src/task.ts": "export const x = 3;\n",
    "src/task.test.ts": "test\n",
    "README.md": "# demo\n",
    "tsconfig.json": "{}",
    LICENSE: "Apache\n",
    "docs/LICENSE": "not root\n",
    ".gitignore": "secret.json\n/generated/\n",
    "secret.json": "{}",
    "generated/out.js": "1",
    "node_modules/x/index.js": "1",
    "dist/index.js": "1",
    "certificates/ca.crt": "CERT",
    "certificates/info.json": "{}",
    "keys/client_credentials_1": "KEY",
    "keys/meta.json": "{}",
    "datasets/part_1.json": "[]",
    "pyproject.toml": "[project]\nname='stale'\n",
    "pnpm-lock.yaml": "lock",
    "image.png": new Uint8Array([1, 2, 3]),
  };
}

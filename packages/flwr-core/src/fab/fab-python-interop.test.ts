import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pythonBinDir, pythonFlwrAvailable, runPython } from "../../../../interop/python.js";
import { demoFiles, makeApp } from "../../test/support/fab-fixtures.js";
import { buildFab } from "./build.js";
import { readFab } from "./read.js";
import { writeZip } from "./zip.js";

describe.skipIf(!pythonFlwrAvailable)("FAB interop with the pinned Python flwr", () => {
  it("writes zip bytes identical to Python's zipfile (STORED, FAB_DATE)", () => {
    const entries = [
      { name: "pyproject.toml", data: new TextEncoder().encode("[project]\n") },
      { name: "src/ä.ts", data: new TextEncoder().encode("x".repeat(1000)) },
      { name: ".info/CONTENT", data: new Uint8Array(0) },
    ];
    const py = runPython(
      `
import io, sys, json, zipfile
from flwr.cli.build import write_to_zip
entries = json.loads(sys.argv[1])
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    for name, hexdata in entries:
        write_to_zip(z, name, bytes.fromhex(hexdata))
print(buf.getvalue().hex())
`,
      [JSON.stringify(entries.map((e) => [e.name, Buffer.from(e.data).toString("hex")]))],
    ).trim();
    expect(Buffer.from(writeZip(entries)).toString("hex")).toBe(py);
  });

  it("our FAB passes Python's SuperLink config parsing and SuperNode install_from_fab", () => {
    const fab = buildFab(makeApp(demoFiles()));
    const dir = mkdtempSync(join(tmpdir(), "flwr-fab-py-"));
    const file = join(dir, fab.fileName);
    writeFileSync(file, fab.bytes);
    const out = runPython(
      `
import json, pathlib, sys, tempfile, hashlib
from flwr.cli.install import install_from_fab
from flwr.common.config import get_fab_config, get_metadata_from_config, flatten_dict, validate_config
path = pathlib.Path(sys.argv[1])
fab = path.read_bytes()
conf = get_fab_config(fab)                       # what Control.StartRun does
ok, errors, _ = validate_config(conf, check_module=False)
fab_id, version = get_metadata_from_config(conf)
cfg = flatten_dict(conf["tool"]["flwr"]["app"].get("config"))
home = pathlib.Path(tempfile.mkdtemp())
p1 = install_from_fab(fab, install_dir=home, skip_prompt=True)       # what flwr-clientapp does
p2 = install_from_fab(path, install_dir=home / "byname", skip_prompt=True)  # checks the file name
print(json.dumps({
  "ok": ok, "errors": errors, "fab_id": fab_id, "version": version,
  "hash": hashlib.sha256(fab).hexdigest(), "dir": p1.name, "byname": p2.name,
  "config": {k: [type(v).__name__, v] for k, v in cfg.items()},
  "components": conf["tool"]["flwr"]["app"]["components"],
  "files": sorted(str(x.relative_to(p1)) for x in p1.rglob("*") if x.is_file()),
}))
`,
      [file],
    );
    const r = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(r.ok).toBe(true);
    expect(r.fab_id).toBe("acme/demoapp");
    expect(r.version).toBe("1.2.0");
    expect(r.hash).toBe(fab.hash);
    expect(r.dir).toBe(`acme.demoapp.1.2.0.${fab.hash.slice(0, 8)}`);
    expect(r.byname).toBe(r.dir);
    expect(r.config).toEqual({
      "num-server-rounds": ["int", 3],
      "fraction-evaluate": ["float", 0.5],
      lr: ["float", 1.0],
      "opt.beta": ["float", 0.9],
    });
    expect(r.components).toEqual({
      serverapp: "src/server_app.ts:app",
      clientapp: "src/client_app.ts:app",
    });
    expect(r.files).toEqual([...fab.files, "pyproject.toml"].sort());
  });

  it("reads a FAB built by Python's `flwr build`", () => {
    const work = mkdtempSync(join(tmpdir(), "flwr-pybuild-"));
    const app = join(work, "pyapp");
    mkdirSync(join(app, "pyapp"), { recursive: true });
    writeFileSync(
      join(app, "pyproject.toml"),
      [
        "[project]",
        'name = "pyapp"',
        'version = "1.0.0"',
        'description = "tiny"',
        'license = "Apache-2.0"',
        'dependencies = ["flwr>=1.29.0"]',
        "",
        "[tool.flwr.app]",
        'publisher = "tester"',
        "",
        "[tool.flwr.app.components]",
        'serverapp = "pyapp.server_app:app"',
        'clientapp = "pyapp.client_app:app"',
        "",
        "[tool.flwr.app.config]",
        "num-server-rounds = 3",
        "lr = 0.1",
        "",
        "[tool.flwr.federations]",
        'default = "local"',
        "",
        "[tool.flwr.federations.local]",
        'address = "127.0.0.1:9093"',
        "insecure = true",
        "",
      ].join("\n"),
    );
    writeFileSync(join(app, "pyapp", "__init__.py"), "");
    writeFileSync(join(app, "pyapp", "server_app.py"), "app = object()\n");
    writeFileSync(join(app, "pyapp", "client_app.py"), "app = object()\n");
    writeFileSync(join(app, "pyapp", "task_test.py"), "x = 1\n");
    writeFileSync(join(app, "README.md"), "# tiny\n");
    execFileSync(join(pythonBinDir, "flwr"), ["build", "--app", app], { cwd: work, stdio: "pipe" });
    const name = readdirSync(work).find((f) => f.endsWith(".fab"))!;
    expect(name).toMatch(/^tester\.pyapp\.1-0-0\.[0-9a-f]{8}\.fab$/);
    const bytes = new Uint8Array(readFileSync(join(work, name)));
    const fab = readFab(bytes, { expectedHash: undefined });
    expect(name).toContain(fab.hash.slice(0, 8));
    expect(fab.fabId).toBe("tester/pyapp");
    expect(fab.fabVersion).toBe("1.0.0");
    expect(fab.components.serverapp).toBe("pyapp.server_app:app");
    expect({ ...fab.config }).toEqual({ "num-server-rounds": 3n, lr: 0.1 });
    expect([...fab.files.keys()]).toEqual([
      "pyproject.toml",
      "README.md",
      "pyapp/__init__.py",
      "pyapp/client_app.py",
      "pyapp/server_app.py",
    ]);
    // Python strips the federations from the bundled pyproject, as we never write them
    expect(new TextDecoder().decode(fab.files.get("pyproject.toml"))).not.toContain("federations");
  });
});

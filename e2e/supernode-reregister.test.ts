/**
 * Registering the key of an unregistered SuperNode again (issue #13, item 6), with real processes
 * (TLS + SuperNode authentication + SQLite): `flwr supernode register` of the key succeeds (Flower
 * 1.29 refuses it forever: "already in use by another SuperNode") with a new node id that
 * supersedes the old row; a SuperNode started with the key activates as the new node and serves
 * a run. The second time round the key is registered with Python flwr 1.29's CLI, which needs no
 * flag either. An online node's key is still refused.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { pythonBinDir, pythonFlwrAvailable } from "../interop/python.js";
import { type Deployment, startDeployment } from "./fixtures/deployment.js";
import { run, stopAll } from "./support/processes.js";

const nodeIdOf = (output: string) => /SuperNode ID: (\d+)/.exec(output)?.[1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("re-registration of an unregistered SuperNode's key", () => {
  let d: Deployment | undefined;

  afterEach(async () => {
    await d?.stop();
    await stopAll();
    d = undefined;
  });

  test("register → unregister → register again: a new node id, and the SuperNode serves a run", async () => {
    d = await startDeployment({ sqlite: true });
    const dep = d;
    const publicKey = join(dep.dir, "keys", "client_credentials_1.pub");
    const statuses = async () => {
      const r = await dep.flwr([
        "supernode",
        "list",
        dep.appDir,
        "my-federation",
        "--format",
        "json",
      ]);
      expect(r.code, r.output).toBe(0);
      const doc = JSON.parse(r.output) as { nodes: { "node-id": string; status: string }[] };
      return Object.fromEntries(doc.nodes.map((n) => [n["node-id"], n.status]));
    };
    /** Unregisters the node the SuperNode process serves; it exits. */
    const unregister = async (node: (typeof dep.supernodes)[number]) => {
      const id = nodeIdOf(node.output())!;
      const r = await dep.flwr(["supernode", "unregister", id, dep.appDir, "my-federation"]);
      expect(r.code, r.output).toBe(0);
      await Promise.race([node.exited(), sleep(30_000)]);
      expect(node.child.exitCode ?? node.child.signalCode).not.toBeNull();
      expect((await statuses())[id]).toBe("unregistered");
      return id;
    };
    /** Starts a SuperNode with the first key; checks it is `id`, online. */
    const serve = async (id: string) => {
      const node = await dep.startSupernode(0);
      await node.waitFor("SuperNode ID", 30_000);
      expect(nodeIdOf(node.output())).toBe(id);
      expect((await statuses())[id]).toBe("online");
      return node;
    };

    // An online node's key is still refused.
    const online = await dep.flwr([
      "supernode",
      "register",
      publicKey,
      dep.appDir,
      "my-federation",
    ]);
    expect(online.code).toBe(1);
    expect(online.output).toContain("already in use by another SuperNode");

    const oldId = await unregister(dep.supernodes[0]!);
    const t0 = performance.now();
    const again = await dep.flwr(["supernode", "register", publicKey, dep.appDir, "my-federation"]);
    const registerMs = performance.now() - t0;
    expect(again.code, again.output).toBe(0);
    const newId = /✅ SuperNode (\d+) registered successfully\./.exec(again.output)?.[1];
    expect(newId).toBeDefined();
    expect(newId).not.toBe(oldId);
    // The new node supersedes the old row.
    expect(Object.keys(await statuses())).not.toContain(oldId);
    const node = await serve(newId!);
    console.log(
      `re-registration: flwr supernode register of the unregistered key took ${registerMs.toFixed(0)} ms; node ${oldId} -> ${newId}`,
    );
    const r = await dep.flwr(
      ["run", dep.appDir, "my-federation", "--run-config", "num-server-rounds=1", "--stream"],
      120_000,
    );
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/aggregate_train: Received 2 results and 0 failures/);

    if (!pythonFlwrAvailable) return;
    // Python flwr 1.29's CLI against our SuperLink: the same, no flag.
    const secondId = await unregister(node);
    const pyHome = join(dep.dir, "python-flwr-home");
    mkdirSync(pyHome);
    writeFileSync(
      join(pyHome, "config.toml"),
      `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${dep.ports.control}"\n` +
        `root-certificates = "${join(dep.dir, "certificates", "ca.crt")}"\n`,
    );
    const py = await run(join(pythonBinDir, "flwr"), ["supernode", "register", publicKey], {
      env: { FLWR_HOME: pyHome, NO_COLOR: "1" },
      timeoutMs: 60_000,
    });
    expect(py.code, py.output).toBe(0);
    const pyId = /SuperNode (\d+) registered successfully/.exec(py.output)?.[1];
    expect(pyId, py.output).toBeDefined();
    expect(pyId).not.toBe(secondId);
    await serve(pyId!);
    console.log(
      `Python flwr 1.29's flwr supernode register of the key again: node ${secondId} -> ${pyId}`,
    );
  }, 300_000);
});

/**
 * The browser SuperNode (`@flwr-ts/web`) in Debian's chromium (puppeteer-core, headless, no
 * browser download), with real processes: a flwr-ts SuperLink with TLS, SuperNode auth and
 * `--fleet-cors-origin` for the page's origin; the page served over HTTPS with the deployment's
 * server certificate (chromium trusts exactly that key: `--ignore-certificate-errors-spki-list`
 * pins its SPKI hash — real TLS, one pinned key); one Node SuperNode on the HTTP Fleet API. The
 * page's key is registered with `flwr supernode register`, comes online (`flwr supernode list`)
 * and trains Flower's CNN for 3 FedAvg rounds beside the Node SuperNode; a stale clock, an
 * unregistered key and a revoked registration each show their message in the page.
 * Screenshots go to $FLWR_TS_BROWSER_SCREENSHOTS (default: a temporary directory).
 */
import { createHash, createPublicKey } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { type Browser, launch, type Page } from "puppeteer-core";
import { afterAll, describe, expect, test } from "vitest";
import { type Deployment, startDeployment } from "./fixtures/deployment.js";
import { freePort } from "./support/ports.js";
import { run, stopAll } from "./support/processes.js";

const repo = join(import.meta.dirname, "..");
const CHROMIUM = "/usr/lib/chromium/chromium";
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".map": "application/json",
};

const work = mkdtempSync(join(tmpdir(), "flwr-ts-browser-"));
const shots = process.env["FLWR_TS_BROWSER_SCREENSHOTS"] ?? join(work, "screenshots");
let d: Deployment | undefined;
let pageServer: Server | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  pageServer?.close();
  await d?.stop();
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

/** Serves the built page over HTTPS with the deployment's server certificate. */
function servePage(dir: string, port: number, cert: string, key: string): Promise<Server> {
  const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    const path = new URL(req.url ?? "/", "https://x").pathname;
    const file = path === "/" ? "index.html" : path.slice(1);
    if (!/^[\w.-]+$/.test(file)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(join(dir, file));
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

async function text(page: Page, id: string): Promise<string> {
  return page.$eval(`#${id}`, (el) => el.textContent ?? "");
}

async function waitForError(page: Page, pattern: RegExp): Promise<string> {
  // Page-side code is a string here: this file is type-checked without the DOM library.
  await page.waitForFunction(
    `${pattern}.test(document.getElementById("error")?.textContent ?? "")`,
    { timeout: 20_000 },
  );
  return text(page, "error");
}

describe("browser SuperNode in chromium", () => {
  test("registers, comes online, trains 3 rounds beside a Node SuperNode; clock, key and revocation errors are clear", async () => {
    // The page bundle, and a small synthetic partition for the Node SuperNode.
    const webOut = join(work, "web");
    const built = await run(
      process.execPath,
      [join(repo, "packages/flwr-web/build-web.mjs"), "--out", webOut],
      {
        timeoutMs: 120_000,
      },
    );
    expect(built.code, built.output).toBe(0);
    const datasets = join(work, "datasets");
    const prepared = await run(
      process.execPath,
      [
        join(repo, "packages/flwr-ml/dist/cli/prepare-dataset-main.js"),
        "--synthetic",
        "--samples",
        "320",
        "--num-partitions",
        "1",
        "--out",
        datasets,
      ],
      { timeoutMs: 60_000 },
    );
    expect(prepared.code, prepared.output).toBe(0);

    const app = join(work, "app");
    cpSync(join(repo, "examples/authexample"), app, {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|datasets|outputs|certificates|keys)([/\\]|$)/.test(src),
    });
    const pagePort = await freePort();
    const origin = `https://127.0.0.1:${pagePort}`;
    d = await startDeployment({
      app,
      cwd: join(repo, "examples/authexample"),
      supernodes: 1,
      supernodeFleet: "http",
      superlinkArgs: ["--fleet-cors-origin", origin],
      extraSupernodeArgs: () => [
        "--node-config",
        `dataset-path="${join(datasets, "cifar10_part_1")}"`,
      ],
    });
    const certDir = join(d.dir, "certificates");
    pageServer = await servePage(
      webOut,
      pagePort,
      join(certDir, "server.pem"),
      join(certDir, "server.key"),
    );
    const spki = createPublicKey(readFileSync(join(certDir, "server.key"))).export({
      type: "spki",
      format: "der",
    });
    const pin = createHash("sha256").update(spki).digest("base64");
    browser = await launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
        `--ignore-certificate-errors-spki-list=${pin}`,
        `--user-data-dir=${join(work, "chromium-profile")}`,
      ],
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 720 });
    page.on("pageerror", (e) => console.log(`page error: ${e}`));
    mkdirSync(shots, { recursive: true });
    const superlink = `https://127.0.0.1:${d.ports.http}`;
    const url = (extra: string) =>
      `${origin}/?superlink=${encodeURIComponent(superlink)}&train=256&test=64${extra}`;

    // A clock 400 s behind: Flower's timestamp window refuses every request.
    await page.goto(url("&clock-offset=-400&autostart=1"));
    expect(await waitForError(page, /clock/)).toMatch(/clock differs from the SuperLink's/);

    // The page's key is not registered yet.
    await page.goto(url("&autostart=1"));
    expect(await waitForError(page, /does not know this node's key/)).toMatch(
      /flwr supernode register/,
    );
    await page.screenshot({ path: join(shots, "browser-supernode-start.png") });

    // Register the page's public key with the CLI, start: online, listed.
    const publicKey = await page.$eval(
      "#public-key",
      (el) => (el as unknown as { value: string }).value,
    );
    expect(publicKey).toMatch(/^ecdsa-sha2-nistp384 AAAA/);
    const pubFile = join(work, "browser.pub");
    writeFileSync(pubFile, `${publicKey}\n`);
    const reg = await d.flwr(["supernode", "register", pubFile, d.appDir, "my-federation"]);
    expect(reg.code, reg.output).toBe(0);
    await page.click("#start");
    await page.waitForFunction('document.body.dataset.status === "online"', {
      timeout: 20_000,
    });
    const nodeId = await text(page, "node-id");
    expect(nodeId).toMatch(/^\d+$/);
    const list = await d.flwr(["supernode", "list", d.appDir, "my-federation", "--format", "json"]);
    expect(list.code, list.output).toBe(0);
    const nodes = (JSON.parse(list.output) as { nodes: { "node-id": string; status: string }[] })
      .nodes;
    expect(nodes.find((n) => n["node-id"] === nodeId)?.status).toBe("online");
    expect(nodes.filter((n) => n.status === "online")).toHaveLength(2);

    // Three rounds of the CNN with both nodes.
    const t0 = performance.now();
    const flwrRun = d.flwrStart([
      "run",
      d.appDir,
      "my-federation",
      "--run-config",
      "num-server-rounds=3 fraction-evaluate=1.0 local-epochs=1 batch-size=32",
      "--stream",
    ]);
    await page.waitForFunction('document.body.dataset.status === "training"', {
      timeout: 60_000,
    });
    await page.waitForFunction('Number(document.getElementById("progress").value) > 0', {
      timeout: 30_000,
    });
    await page.screenshot({ path: join(shots, "browser-supernode-training.png") });
    const code = await Promise.race([
      flwrRun.exited(),
      new Promise((r) => setTimeout(() => r("timeout"), 150_000)),
    ]);
    const output = flwrRun.output();
    console.log(
      `3 rounds in ${((performance.now() - t0) / 1000).toFixed(1)} s\n${output.slice(-3000)}`,
    );
    expect(code, output).toBe(0);
    expect(
      output.match(/aggregate_train: Received 2 results and 0 failures/g),
      output,
    ).toHaveLength(3);
    expect(
      output.match(/aggregate_evaluate: Received 2 results and 0 failures/g),
      output,
    ).toHaveLength(3);
    expect(output).toMatch(/round 3\/3: train_loss=\d/);
    await page.waitForFunction(
      '/eval_acc/.test(document.getElementById("metrics")?.textContent ?? "")',
      {
        timeout: 20_000,
      },
    );
    expect(await text(page, "round")).toMatch(/round 3/);
    await page.screenshot({ path: join(shots, "browser-supernode-done.png") });
    console.log(`page metrics: ${await text(page, "metrics")}`);

    // Revocation while online: the page says so.
    const unreg = await d.flwr(["supernode", "unregister", nodeId, d.appDir, "my-federation"]);
    expect(unreg.code, unreg.output).toBe(0);
    expect(await waitForError(page, /revoked/)).toMatch(/registration was revoked/);
    console.log(`screenshots in ${shots}`);
  }, 300_000);
});

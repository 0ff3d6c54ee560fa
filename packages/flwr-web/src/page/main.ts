/**
 * The browser SuperNode's page: the key pair (IndexedDB, generated here or imported), the
 * SuperLink address, start/stop, and what the node does — node id, status, run and round, local
 * training progress, last metrics. URL parameters (all optional): `superlink` (the SuperLink's
 * HTTP API, default this page's host on port 8000 over https), `train` / `test` (synthetic
 * images, default 512 / 128), `seed`, `clock-offset` (seconds added to the clock, to see a
 * stale-clock refusal), `autostart=1`.
 */

import { BrowserSuperNode, type NodeEvent } from "../browser-supernode.js";
import { FetchFleetClient } from "../fetch-fleet-client.js";
import { deleteStoredKey, loadStoredKey, storeKey } from "../key-store.js";
import { generateSuperNodeKey, importSuperNodeKey, type SuperNodeKey } from "../web-key.js";
import { WebRequestSigner } from "../web-signer.js";
import {
  AUTHEXAMPLE_RUN_CONFIG,
  createWorkerClientApp,
  type LastMetrics,
  TrainingWorker,
} from "../worker-client-app.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

function intParam(name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    showError(
      `URL parameter ${name}=${raw} must be an integer in ${min}..${max}; using ${fallback}.`,
    );
    return fallback;
  }
  return n;
}

function log(line: string): void {
  const el = $("log");
  el.textContent += `${new Date().toISOString().slice(11, 19)} ${line}\n`;
  el.scrollTop = el.scrollHeight;
}

function showError(text: string | undefined): void {
  const el = $("error");
  el.textContent = text ?? "";
  el.classList.toggle("shown", Boolean(text));
}

const data = {
  kind: "synthetic" as const,
  trainCount: intParam("train", 512, 1, 50_000),
  testCount: intParam("test", 128, 1, 10_000),
  seed: intParam("seed", 7, 0, 2 ** 31 - 1),
};
const clockOffsetMs = intParam("clock-offset", 0, -86_400, 86_400) * 1000;
$<HTMLInputElement>("superlink").value =
  params.get("superlink") ?? `https://${location.hostname}:8000`;
$("data").textContent =
  `synthetic CIFAR-10 stand-in: ${data.trainCount} train / ${data.testCount} test images (seed ${data.seed}); they never leave this page`;

const worker = new TrainingWorker(
  new Worker(new URL("./worker.js", import.meta.url), { type: "module" }),
);
void worker.ready.then((backend) => {
  $("backend").textContent = `TensorFlow.js ${backend} (Web Worker)`;
});
worker.onProgress = (p) => {
  const el = $<HTMLProgressElement>("progress");
  el.max = p.total;
  el.value = p.seen;
  $("progress-text").textContent =
    ` epoch ${p.epoch}/${p.epochs}: ${p.seen}/${p.total} images, loss ${p.loss.toFixed(4)}`;
};

function showMetrics(m: LastMetrics): void {
  const parts: string[] = [];
  if (m.trainLoss !== undefined) parts.push(`train_loss ${m.trainLoss.toFixed(4)}`);
  if (m.evalLoss !== undefined) parts.push(`eval_loss ${m.evalLoss.toFixed(4)}`);
  if (m.evalAccuracy !== undefined) parts.push(`eval_acc ${m.evalAccuracy.toFixed(4)}`);
  if (m.imagesPerSecond !== undefined) parts.push(`${m.imagesPerSecond.toFixed(1)} img/s`);
  $("metrics").textContent = parts.join(", ") || "–";
}

let key: SuperNodeKey | undefined;
let node: BrowserSuperNode | undefined;

async function useKey(k: SuperNodeKey): Promise<void> {
  key = k;
  await storeKey(k);
  $<HTMLTextAreaElement>("public-key").value = k.openSshPublicKey;
  document.body.dataset["keyReady"] = "1";
}

function onEvent(e: NodeEvent): void {
  const status = $("status");
  status.textContent = e.status;
  status.className = `status-${e.status}`;
  document.body.dataset["status"] = e.status;
  if (e.nodeId !== undefined) $("node-id").textContent = String(e.nodeId);
  if (e.runId !== undefined)
    $("round").textContent = `run ${e.runId}${e.round ? `, round ${e.round}` : ""}`;
  if (e.status === "error") showError(e.message);
  if (e.message) log(`${e.status}: ${e.message}`);
}

async function start(): Promise<void> {
  if (!key || node) return;
  showError(undefined);
  let fleet: FetchFleetClient;
  try {
    fleet = new FetchFleetClient(
      $<HTMLInputElement>("superlink").value.trim(),
      new WebRequestSigner(key, clockOffsetMs),
    );
  } catch (error) {
    showError((error as Error).message);
    return;
  }
  const current = new BrowserSuperNode({
    fleet,
    publicKeyPem: key.publicKeyPem,
    app: createWorkerClientApp(worker, data, showMetrics),
    defaultRunConfig: { ...AUTHEXAMPLE_RUN_CONFIG },
    onEvent,
  });
  node = current;
  $<HTMLButtonElement>("start").disabled = true;
  $<HTMLButtonElement>("stop").disabled = false;
  try {
    await current.run();
  } catch {
    // shown by onEvent
  } finally {
    if (node === current) node = undefined;
    $<HTMLButtonElement>("start").disabled = false;
    $<HTMLButtonElement>("stop").disabled = true;
  }
}

$("start").addEventListener("click", () => void start());
$("stop").addEventListener("click", () => void node?.stop());
$("new-key").addEventListener("click", () => {
  void (async () => {
    await node?.stop();
    await deleteStoredKey();
    await useKey(await generateSuperNodeKey("flwr-ts-browser"));
    log("generated a new P-384 key pair (private key non-extractable, kept in IndexedDB)");
  })();
});
$<HTMLInputElement>("import-key").addEventListener("change", (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  void (async () => {
    try {
      await useKey(await importSuperNodeKey(await file.text(), "flwr-ts-browser"));
      showError(undefined);
      log(`imported the key of ${file.name}`);
    } catch (error) {
      showError(`Cannot import ${file.name}: ${(error as Error).message}`);
    }
  })();
});

void (async () => {
  try {
    const stored = await loadStoredKey("flwr-ts-browser");
    if (stored) log("using the key pair stored in this browser");
    await useKey(stored ?? (await generateSuperNodeKey("flwr-ts-browser")));
  } catch (error) {
    showError(`No key pair: ${(error as Error).message}`);
    return;
  }
  if (params.get("autostart") === "1") void start();
})();

/**
 * Download of the archive from a local HTTP server: progress to the file,
 * MD5 verification, redirects, HTTP errors and truncated transfers; retries of failures that
 * may pass when repeated, and resuming with a Range request.
 */

import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadCifar10 } from "../src/cifar10/download.js";
import { md5 } from "../src/cifar10/parse.js";

const payload = new Uint8Array(200_000).map((_, i) => (i * 31) % 251);
let server: Server;
let base: string;
let dir: string;
let flakyCalls = 0;
let cutOnce = 0;
const ranges: string[] = [];

/** Serves `payload` honouring `Range: bytes=N-` with a 206. */
function serveRanged(
  req: { headers: { range?: string } },
  res: import("node:http").ServerResponse,
) {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
  if (m) {
    ranges.push(req.headers.range as string);
    const from = Number(m[1]);
    res.writeHead(206, {
      "content-length": payload.length - from,
      "content-range": `bytes ${from}-${payload.length - 1}/${payload.length}`,
    });
    res.end(payload.subarray(from));
  } else {
    res.writeHead(200, { "content-length": payload.length });
    res.end(payload);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "flwr-ml-dl-"));
  server = createServer((req, res) => {
    if (req.url === "/archive") {
      res.writeHead(200, { "content-length": payload.length });
      res.end(payload);
    } else if (req.url === "/moved") {
      res.writeHead(302, { location: "/archive" });
      res.end();
    } else if (req.url === "/truncated") {
      res.writeHead(200, { "content-length": payload.length });
      res.write(payload.subarray(0, 1000));
      setTimeout(() => res.destroy(), 20);
    } else if (req.url === "/flaky") {
      flakyCalls++;
      if (flakyCalls < 3) {
        res.writeHead(503);
        res.end();
      } else {
        res.writeHead(200, { "content-length": payload.length });
        res.end(payload);
      }
    } else if (req.url === "/cut-once") {
      if (cutOnce++ === 0) {
        res.writeHead(200, { "content-length": payload.length });
        res.write(payload.subarray(0, 70_000));
        setTimeout(() => res.destroy(), 20);
      } else serveRanged(req, res);
    } else if (req.url === "/ranged") {
      serveRanged(req, res);
    } else if (req.url === "/forbidden") {
      res.writeHead(403);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("downloadCifar10", () => {
  it("downloads, follows a redirect and verifies the MD5", async () => {
    const dest = join(dir, "ok.tar.gz");
    await downloadCifar10(dest, { url: `${base}/moved`, md5: md5(payload) });
    expect(new Uint8Array(await readFile(dest))).toEqual(payload);
  });

  it("rejects a checksum mismatch and leaves no file behind", async () => {
    const dest = join(dir, "bad.tar.gz");
    await expect(
      downloadCifar10(dest, { url: `${base}/archive`, md5: "0".repeat(32) }),
    ).rejects.toThrow(/downloaded archive has MD5 [0-9a-f]{32}, expected 0{32}/);
    await expect(stat(dest)).rejects.toThrow();
    await expect(stat(`${dest}.part`)).rejects.toThrow();
  });

  it("reports HTTP errors and truncated transfers clearly", async () => {
    await expect(
      downloadCifar10(join(dir, "404.tar.gz"), { url: `${base}/missing` }),
    ).rejects.toThrow(/HTTP 404; use --from <archive> or --synthetic offline/);
    await expect(
      downloadCifar10(join(dir, "cut.tar.gz"), { url: `${base}/truncated` }),
    ).rejects.toThrow(/truncated|closed|aborted|socket hang up/);
    await expect(
      downloadCifar10(join(dir, "x.tar.gz"), { url: "ftp://example.org/x" }),
    ).rejects.toThrow(/unsupported URL/);
  });

  it("retries HTTP 5xx with backoff, and does not retry other HTTP errors", async () => {
    const dest = join(dir, "flaky.tar.gz");
    await downloadCifar10(dest, { url: `${base}/flaky`, md5: md5(payload), retryDelayMs: 10 });
    expect(flakyCalls).toBe(3);
    expect(new Uint8Array(await readFile(dest))).toEqual(payload);
    flakyCalls = 0;
    await expect(
      downloadCifar10(join(dir, "flaky2.tar.gz"), {
        url: `${base}/flaky`,
        retries: 1,
        retryDelayMs: 10,
      }),
    ).rejects.toThrow(/HTTP 503; .* \(2 attempts\)/);
    const before = ranges.length;
    await expect(
      downloadCifar10(join(dir, "403.tar.gz"), { url: `${base}/forbidden`, retryDelayMs: 10 }),
    ).rejects.toThrow(/failed: HTTP 403; use --from/);
    expect(ranges.length).toBe(before);
  });

  it("resumes a transfer cut off mid-way with a Range request", async () => {
    const dest = join(dir, "resumed.tar.gz");
    ranges.length = 0;
    await downloadCifar10(dest, { url: `${base}/cut-once`, md5: md5(payload), retryDelayMs: 10 });
    expect(ranges).toEqual(["bytes=70000-"]);
    expect(new Uint8Array(await readFile(dest))).toEqual(payload);
  });

  it("resumes the .part of an interrupted run, and starts over when it was stale", async () => {
    const dest = join(dir, "left.tar.gz");
    await writeFile(`${dest}.part`, payload.subarray(0, 123_456));
    ranges.length = 0;
    await downloadCifar10(dest, { url: `${base}/ranged`, md5: md5(payload) });
    expect(ranges).toEqual(["bytes=123456-"]);
    expect(new Uint8Array(await readFile(dest))).toEqual(payload);
    const stale = join(dir, "stale.tar.gz");
    await writeFile(`${stale}.part`, new Uint8Array(5000).fill(7));
    await downloadCifar10(stale, { url: `${base}/ranged`, md5: md5(payload) });
    expect(new Uint8Array(await readFile(stale))).toEqual(payload);
    await expect(stat(`${stale}.part`)).rejects.toThrow();
  });
});

/**
 * Download of the archive from a local HTTP server: progress to the file,
 * MD5 verification, redirects, HTTP errors and truncated transfers.
 */

import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
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
});

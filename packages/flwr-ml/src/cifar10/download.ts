/**
 * Downloading the official CIFAR-10 binary archive with progress and an MD5
 * check (redirects followed; written to a temporary name, renamed when valid).
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { dirname } from "node:path";
import { ProgressBar } from "../progress.js";
import { Cifar10Error } from "./errors.js";
import { CIFAR10_MD5, CIFAR10_URL } from "./parse.js";

/** Options of {@link downloadCifar10}. */
export interface DownloadOptions {
  /** Source URL (default the official one). */
  url?: string;
  /** Expected MD5 (default the official one). */
  md5?: string;
  /** Give up after this many ms without data (default 30,000). */
  idleTimeoutMs?: number;
}

/** Downloads to `dest`; throws {@link Cifar10Error} on network errors or a bad checksum. */
export async function downloadCifar10(dest: string, options: DownloadOptions = {}): Promise<void> {
  const url = options.url ?? CIFAR10_URL;
  const expected = options.md5 ?? CIFAR10_MD5;
  await mkdir(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  const fetchTo = (target: string, redirects: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const url = new URL(target);
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        reject(new Cifar10Error(`unsupported URL ${target}: use https:// (or http://)`));
        return;
      }
      const get = url.protocol === "https:" ? httpsGet : httpGet;
      const req = get(url, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location && redirects < 5) {
          res.resume();
          fetchTo(new URL(res.headers.location, target).toString(), redirects + 1).then(
            resolve,
            reject,
          );
          return;
        }
        if (status !== 200) {
          res.resume();
          reject(
            new Cifar10Error(
              `download of ${target} failed: HTTP ${status}; use --from <archive> or --synthetic offline`,
            ),
          );
          return;
        }
        const total = Number(res.headers["content-length"] ?? 0);
        const bar = new ProgressBar("download cifar-10-binary.tar.gz", total);
        const hash = createHash("md5");
        const out = createWriteStream(part);
        let done = 0;
        res.on("data", (chunk: Buffer) => {
          hash.update(chunk);
          done += chunk.length;
          bar.update(done, `${(done / 1e6).toFixed(1)} MB`);
        });
        res.on("error", reject);
        res.on("aborted", () =>
          reject(new Cifar10Error(`download truncated: connection closed after ${done} bytes`)),
        );
        res.pipe(out);
        out.on("finish", () => {
          bar.finish(done, `${(done / 1e6).toFixed(1)} MB`);
          if (total > 0 && done !== total)
            reject(new Cifar10Error(`download truncated: ${done} of ${total} bytes`));
          else resolve(hash.digest("hex"));
        });
        out.on("error", reject);
      });
      req.setTimeout(options.idleTimeoutMs ?? 30_000, () =>
        req.destroy(new Error("no data received (timeout)")),
      );
      req.on("error", (error) =>
        reject(
          new Cifar10Error(
            `cannot download ${target} (${error.message}); use --from <archive> or --synthetic offline`,
          ),
        ),
      );
    });
  try {
    const digest = await fetchTo(url, 0);
    if (digest !== expected)
      throw new Cifar10Error(`downloaded archive has MD5 ${digest}, expected ${expected}`);
    await rename(part, dest);
  } catch (error) {
    await rm(part, { force: true });
    throw error;
  }
}

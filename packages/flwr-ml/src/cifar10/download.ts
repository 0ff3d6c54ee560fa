/**
 * Downloading the official CIFAR-10 binary archive with Node's global `fetch`: redirects
 * followed, progress shown, retried with backoff on network errors, timeouts, truncated
 * transfers and HTTP 408/429/5xx, resumed with an HTTP `Range` request from what is already on
 * disk (also after an interrupted earlier run), MD5-checked, written to `<dest>.part` and
 * renamed when valid.
 *
 * Proxies: Node's `fetch` uses `HTTP(S)_PROXY` from Node 24 with `NODE_USE_ENV_PROXY=1`; on
 * older Node download the archive another way and pass it with `--from`.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { finished } from "node:stream/promises";
import { ProgressBar } from "../progress.js";
import { Cifar10Error } from "./errors.js";
import { CIFAR10_MD5, CIFAR10_URL } from "./parse.js";

/** Options of {@link downloadCifar10}. */
export interface DownloadOptions {
  /** Source URL (default the official one). */
  url?: string;
  /** Expected MD5 (default the official one). */
  md5?: string;
  /** Give up an attempt after this many ms without data (default 30,000). */
  idleTimeoutMs?: number;
  /** Further attempts after a failed one that may succeed when repeated (default 3). */
  retries?: number;
  /** Wait before the first retry, doubled for each next one (default 250 ms). */
  retryDelayMs?: number;
}

const OFFLINE_HINT = "use --from <archive> or --synthetic offline";

/** A failed attempt; `retry` when repeating it may succeed. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** MD5 hex digest of a file, read as a stream. */
export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The start offset a `206 Partial Content` answer's `Content-Range` gives, if any. */
function rangeStart(header: string | null): number | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header?.trim() ?? "");
  return m ? Number(m[1]) : undefined;
}

/** One GET, appended to `part` from its current size when the server honours `Range`. */
async function attempt(url: string, part: string, idleTimeoutMs: number): Promise<void> {
  const have = await sizeOf(part);
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const idle = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error("no data received (timeout)")), idleTimeoutMs);
  };
  idle();
  let received = 0;
  let expected = 0;
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: have > 0 ? { range: `bytes=${have}-` } : {},
        redirect: "follow",
        signal: abort.signal,
      });
    } catch (error) {
      throw new AttemptError(`cannot download ${url} (${causeOf(error)}); ${OFFLINE_HINT}`, true);
    }
    if (res.status === 416 && have > 0) {
      // Nothing after what we have: keep it; the MD5 check decides.
      await res.body?.cancel();
      return;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      const retry = res.status === 408 || res.status === 429 || res.status >= 500;
      throw new AttemptError(
        `download of ${url} failed: HTTP ${res.status}; ${OFFLINE_HINT}`,
        retry,
      );
    }
    const resumed = res.status === 206 && rangeStart(res.headers.get("content-range")) === have;
    const start = resumed ? have : 0;
    const length = Number(res.headers.get("content-length") ?? 0);
    expected = length > 0 ? start + length : 0;
    const bar = new ProgressBar("download cifar-10-binary.tar.gz", expected);
    const out = createWriteStream(part, { flags: resumed ? "a" : "w" });
    const done = () => start + received;
    try {
      if (res.body) {
        for await (const chunk of res.body) {
          idle();
          received += chunk.length;
          if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
          bar.update(done(), `${(done() / 1e6).toFixed(1)} MB`);
        }
      }
    } catch (error) {
      throw new AttemptError(
        `download truncated: connection closed after ${done()}${expected ? ` of ${expected}` : ""} bytes (${causeOf(error)})`,
        true,
      );
    } finally {
      out.end();
      await finished(out);
    }
    bar.finish(done(), `${(done() / 1e6).toFixed(1)} MB`);
    if (expected > 0 && done() !== expected)
      throw new AttemptError(`download truncated: ${done()} of ${expected} bytes`, true);
  } finally {
    clearTimeout(timer);
  }
}

function causeOf(error: unknown): string {
  const e = error as Error & { cause?: Error & { code?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message}: ${cause}` : e.message;
}

/**
 * Downloads to `dest`; throws {@link Cifar10Error} on an HTTP error, a network failure that
 * persists over the retries, or a bad checksum. A `<dest>.part` left by an interrupted run is
 * resumed; one that turns out corrupt is downloaded again from the start, once.
 */
export async function downloadCifar10(dest: string, options: DownloadOptions = {}): Promise<void> {
  const url = options.url ?? CIFAR10_URL;
  const expected = options.md5 ?? CIFAR10_MD5;
  const retries = options.retries ?? 3;
  const delay = options.retryDelayMs ?? 250;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Cifar10Error(`unsupported URL ${url}: use https:// (or http://)`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    throw new Cifar10Error(`unsupported URL ${url}: use https:// (or http://)`);
  await mkdir(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let fromScratchAgain = (await sizeOf(part)) > 0;
  try {
    for (let n = 0; ; n++) {
      try {
        await attempt(url, part, options.idleTimeoutMs ?? 30_000);
      } catch (error) {
        if (!(error instanceof AttemptError)) throw error;
        if (!error.retry || n >= retries) {
          const tries = n + 1;
          throw new Cifar10Error(
            tries > 1 ? `${error.message} (${tries} attempts)` : error.message,
          );
        }
        await new Promise((r) => setTimeout(r, delay * 2 ** n));
        continue;
      }
      const digest = await md5File(part);
      if (digest === expected) break;
      if (fromScratchAgain) {
        // The resumed part was stale: start over once.
        fromScratchAgain = false;
        await rm(part, { force: true });
        n = -1;
        continue;
      }
      throw new Cifar10Error(`downloaded archive has MD5 ${digest}, expected ${expected}`);
    }
    await rename(part, dest);
  } catch (error) {
    // Keep a partial download for the next run to resume; drop a complete but wrong one.
    if (!(error instanceof Cifar10Error && /truncated|cannot download/.test(error.message)))
      await rm(part, { force: true });
    throw error;
  }
}

/**
 * Which CIFAR-10 partitions the demo uses: the real dataset when it is already prepared, when
 * its archive is cached, or when the official server answers quickly; otherwise the synthetic
 * stand-in, which the demo announces loudly.
 */

import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { CIFAR10_URL } from "@flwr-ts/ml";

/** What is in `datasets/` now. */
export type PreparedState =
  | { kind: "none" }
  | { kind: "real" }
  | { kind: "synthetic"; samples: number };

interface HeaderLike {
  synthetic?: unknown;
  splits?: { train?: { count?: unknown }; test?: { count?: unknown } };
}

/** Reads the headers of `datasets/cifar10_part_1` and `_2`. */
export async function preparedState(datasetsDir: string): Promise<PreparedState> {
  let synthetic: boolean | undefined;
  let samples = 0;
  for (const i of [1, 2]) {
    let header: HeaderLike;
    try {
      header = JSON.parse(
        await readFile(join(datasetsDir, `cifar10_part_${i}`, "dataset.json"), "utf8"),
      ) as HeaderLike;
    } catch {
      return { kind: "none" };
    }
    if (typeof header.synthetic !== "boolean") return { kind: "none" };
    if (synthetic !== undefined && synthetic !== header.synthetic) return { kind: "none" };
    synthetic = header.synthetic;
    const train = header.splits?.train?.count;
    const test = header.splits?.test?.count;
    if (typeof train !== "number" || typeof test !== "number") return { kind: "none" };
    samples += train + test;
  }
  return synthetic ? { kind: "synthetic", samples } : { kind: "real" };
}

/**
 * Whether the official CIFAR-10 server answers a HEAD request within `timeoutMs`.
 * @returns undefined when reachable, else why not.
 */
export function probeCifar10(timeoutMs: number, url = CIFAR10_URL): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (why: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(why);
    };
    // One deadline for DNS, connect and the answer.
    const timer = setTimeout(() => settle(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    const req = request(url, { method: "HEAD" }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      settle(status >= 200 && status < 400 ? undefined : `HTTP ${status}`);
    });
    req.on("error", (error) => settle(error.message));
    req.end();
  });
}

/**
 * Peak memory of reading a full-size CIFAR-10 archive: writes an archive in the official binary
 * format (5 × 10,000 training and 10,000 test records of random pixels, about 184 MB gzipped,
 * in a child process), then reads it with `readCifar10Archive` in a fresh child and prints its
 * time and peak RSS (the 60,000 decoded images alone are 184 MB). Run:
 * `npx tsx bench/cifar10-extract.ts [runs]`.
 */
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { md5File } from "../packages/flwr-ml/src/cifar10/download.js";
import { CIFAR10_RECORD_BYTES, readCifar10Archive } from "../packages/flwr-ml/src/cifar10/parse.js";
import { writeTar } from "../packages/flwr-ml/test/helpers/tar-writer.js";

const self = fileURLToPath(import.meta.url);

async function generate(path: string): Promise<void> {
  const member = (name: string, records: number) => {
    const data = Buffer.alloc(records * CIFAR10_RECORD_BYTES);
    randomFillSync(data);
    for (let i = 0; i < records; i++)
      data[i * CIFAR10_RECORD_BYTES] = (data[i * CIFAR10_RECORD_BYTES] as number) % 10;
    return { name: `cifar-10-batches-bin/${name}`, data };
  };
  const files = [1, 2, 3, 4, 5].map((b) => member(`data_batch_${b}.bin`, 10_000));
  files.push(member("test_batch.bin", 10_000));
  await writeFile(path, gzipSync(writeTar(files)));
}

async function read(path: string): Promise<void> {
  const start = performance.now();
  const { train, test } = await readCifar10Archive(path, { md5: await md5File(path) });
  const seconds = (performance.now() - start) / 1000;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${train.count + test.count} images in ${seconds.toFixed(1)} s, peak RSS ${rss.toFixed(0)} MB`,
  );
}

const child = (...args: string[]) =>
  spawnSync(process.execPath, [...process.execArgv, self, ...args], { stdio: "inherit" });

const [mode, path] = process.argv.slice(2);
if (mode === "--generate") await generate(path as string);
else if (mode === "--read") await read(path as string);
else {
  const runs = Number(mode ?? 3);
  const dir = mkdtempSync(join(tmpdir(), "flwr-cifar-bench-"));
  try {
    const archive = join(dir, "cifar-10-binary.tar.gz");
    child("--generate", archive);
    const idle = spawnSync(process.execPath, [
      "-e",
      "console.log((process.resourceUsage().maxRSS / 1024).toFixed(0))",
    ]);
    console.log(`an idle node process: ${String(idle.stdout).trim()} MB`);
    for (let i = 0; i < runs; i++) child("--read", archive);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * CIFAR-10 preparation on generated files in the official format: parsing (streamed),
 * corruption handling, partitioning, the on-disk format, the synthetic
 * stand-in and the CLI.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cifar10Error } from "../src/cifar10/errors.js";
import { loadPartition } from "../src/cifar10/format.js";
import {
  CIFAR10_RECORD_BYTES,
  md5,
  parseCifar10Archive,
  parseCifar10Stream,
  readCifar10Archive,
} from "../src/cifar10/parse.js";
import { partitionIndices } from "../src/cifar10/partition.js";
import { prepareCifar10 } from "../src/cifar10/prepare.js";
import { syntheticCifar10 } from "../src/cifar10/synthetic.js";
import { runPrepareDataset } from "../src/cli/prepare-dataset.js";
import { writeTar } from "./helpers/tar-writer.js";

/** Records with label = (batch·7 + i) % 10 and pixel bytes derived from (record, channel, position). */
function batchBytes(batch: number, count: number): Uint8Array {
  const out = new Uint8Array(count * CIFAR10_RECORD_BYTES);
  for (let i = 0; i < count; i++) {
    const r = i * CIFAR10_RECORD_BYTES;
    out[r] = (batch * 7 + i) % 10;
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < 1024; p++) out[r + 1 + c * 1024 + p] = (p + 50 * c + 3 * i + batch) % 256;
  }
  return out;
}

const PER_BATCH = 10;
function officialArchive(options: { drop?: string; truncateMember?: boolean } = {}): Uint8Array {
  const files = [1, 2, 3, 4, 5].map((b) => ({
    name: `cifar-10-batches-bin/data_batch_${b}.bin`,
    data: batchBytes(b, PER_BATCH),
  }));
  files.push({ name: "cifar-10-batches-bin/test_batch.bin", data: batchBytes(9, 4) });
  files.push({
    name: "cifar-10-batches-bin/batches.meta.txt",
    data: new TextEncoder().encode("airplane\n"),
  });
  const kept = files
    .filter((f) => !f.name.endsWith(options.drop ?? "\0"))
    .map((f) =>
      options.truncateMember && f.name.endsWith("data_batch_3.bin")
        ? { ...f, data: f.data.subarray(0, 5000) }
        : f,
    );
  return gzipSync(writeTar(kept));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "flwr-ml-cifar-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("archive parsing", () => {
  it("parses the official layout: labels, and channel-major records to NHWC pixels", async () => {
    const archive = officialArchive();
    const { train, test } = await parseCifar10Archive(archive, { md5: md5(archive) });
    expect(train.count).toBe(5 * PER_BATCH);
    expect(test.count).toBe(4);
    expect(train.labels[PER_BATCH + 2]).toBe((2 * 7 + 2) % 10);
    // image 2 of batch 2: pixel (y=3, x=5), green channel
    const img = PER_BATCH + 2;
    const p = 3 * 32 + 5;
    expect(train.pixels[img * 3072 + p * 3 + 1]).toBe((p + 50 + 3 * 2 + 2) % 256);
    expect(test.pixels[1 * 3072 + p * 3 + 2]).toBe((p + 100 + 3 + 9) % 256);
  });

  it("reports a checksum mismatch, before any other fault", async () => {
    await expect(parseCifar10Archive(officialArchive())).rejects.toThrow(
      /checksum mismatch: archive MD5 is [0-9a-f]{32}, expected c32a1d4a/,
    );
    const archive = officialArchive();
    await expect(
      parseCifar10Archive(archive.subarray(0, 200), { md5: md5(archive) }),
    ).rejects.toThrow(/checksum mismatch/);
  });

  it("reports a truncated gzip stream", async () => {
    const archive = officialArchive();
    const cut = archive.subarray(0, archive.length - 100);
    await expect(parseCifar10Archive(cut, { md5: null })).rejects.toThrow(
      /cannot decompress the archive .*truncated or not a .tar.gz/,
    );
  });

  it("reports a corrupt tar header and a truncated tar", async () => {
    const tar = writeTar([{ name: "a.bin", data: new Uint8Array(1000) }]);
    const corrupt = Uint8Array.from(tar);
    corrupt[10] = 0x41;
    await expect(parseCifar10Archive(gzipSync(corrupt), { md5: null })).rejects.toThrow(
      /corrupt tar archive/,
    );
    await expect(
      parseCifar10Archive(gzipSync(tar.subarray(0, 700)), { md5: null }),
    ).rejects.toThrow(/truncated tar archive/);
    await expect(parseCifar10Archive(gzipSync(corrupt), { md5: null })).rejects.toThrow(
      Cifar10Error,
    );
  });

  it("reports a member that is not whole records, a bad label and a missing member", async () => {
    const truncated = officialArchive({ truncateMember: true });
    await expect(parseCifar10Archive(truncated, { md5: null })).rejects.toThrow(
      /not a whole number of 3073-byte records/,
    );
    const missing = officialArchive({ drop: "test_batch.bin" });
    await expect(parseCifar10Archive(missing, { md5: null })).rejects.toThrow(
      /has no test_batch.bin/,
    );
    const bad = batchBytes(1, 3);
    bad[2 * CIFAR10_RECORD_BYTES] = 12;
    const badLabel = gzipSync(
      writeTar([
        ...[1, 2, 3, 4, 5].map((b) => ({
          name: `cifar-10-batches-bin/data_batch_${b}.bin`,
          data: b === 2 ? bad : batchBytes(b, 3),
        })),
        { name: "cifar-10-batches-bin/test_batch.bin", data: batchBytes(9, 1) },
      ]),
    );
    await expect(parseCifar10Archive(badLabel, { md5: null })).rejects.toThrow(
      /training batches: record 5 has label 12/,
    );
  });

  it("streams from a file, records split across chunks, members in any order", async () => {
    const files = [5, 3, 1, 2, 4].map((b) => ({
      name: `cifar-10-batches-bin/data_batch_${b}.bin`,
      data: batchBytes(b, 7),
    }));
    files.splice(2, 0, { name: "cifar-10-batches-bin/test_batch.bin", data: batchBytes(9, 3) });
    const archive = gzipSync(writeTar(files));
    const path = join(dir, "stream.tar.gz");
    await writeFile(path, archive);
    const fromFile = await readCifar10Archive(path, { md5: md5(archive) });
    // 1-byte chunks: every record crosses chunk boundaries.
    const { Readable } = await import("node:stream");
    const tiny = await parseCifar10Stream(
      () => Readable.from(Array.from(archive, (b) => Uint8Array.of(b))),
      { md5: null },
    );
    for (const got of [fromFile, tiny]) {
      expect(got.train.count).toBe(35);
      expect(got.train.labels[7 + 2]).toBe((2 * 7 + 2) % 10); // image 2 of batch 2
      expect(got.train.pixels[(14 + 1) * 3072 + 100 * 3 + 2]).toBe((100 + 100 + 3 + 3) % 256);
      expect(got.test.labels[2]).toBe((9 * 7 + 2) % 10);
    }
    expect(tiny.train.pixels).toEqual(fromFile.train.pixels);
    await expect(readCifar10Archive(join(dir, "nope.tar.gz"))).rejects.toThrow(
      /cannot read .*nope.tar.gz \(ENOENT\)/,
    );
  });
});

describe("partitioning", () => {
  const data = syntheticCifar10({ count: 1000, seed: 1 });

  it("IID: disjoint, covering, balanced, deterministic", () => {
    const parts = partitionIndices(data, { numPartitions: 3, seed: 7 });
    const all = parts.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(parts.map((p) => p.length)).toEqual([333, 333, 334]);
    expect(partitionIndices(data, { numPartitions: 3, seed: 7 })).toEqual(parts);
    expect(partitionIndices(data, { numPartitions: 3, seed: 8 })).not.toEqual(parts);
  });

  it("Dirichlet: disjoint, covering, and label-skewed for small alpha", () => {
    const parts = partitionIndices(data, { numPartitions: 4, seed: 3, dirichletAlpha: 0.1 });
    expect(parts.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // With alpha 0.1 some partition is dominated by few classes.
    const share = parts.map((p) => {
      const counts = new Array(10).fill(0);
      for (const i of p) counts[data.labels[i] as number]++;
      return Math.max(...counts) / p.length;
    });
    expect(Math.max(...share)).toBeGreaterThan(0.3);
    expect(() => partitionIndices(data, { numPartitions: 2, dirichletAlpha: -1 })).toThrow(
      /alpha must be a positive number/,
    );
    expect(() => partitionIndices(data, { numPartitions: 0 })).toThrow(/positive integer/);
  });
});

describe("prepare and load", () => {
  it("writes cifar10_part_<i> from an archive, 80/20, and loads them back", async () => {
    const archivePath = join(dir, "fake.tar.gz");
    const archive = officialArchive();
    await writeFile(archivePath, archive);
    // The real checksum is enforced: a fake archive is refused by prepare...
    await expect(
      prepareCifar10({
        outDir: join(dir, "bad"),
        source: { kind: "archive", path: archivePath },
        log: null,
      }),
    ).rejects.toThrow(/checksum mismatch/);
    // ...so exercise the format through the parsed sets directly.
    const { train } = await parseCifar10Archive(archive, { md5: null });
    const { savePartition } = await import("../src/cifar10/format.js");
    const { partitionDataset } = await import("../src/cifar10/partition.js");
    const parts = partitionDataset(train, { numPartitions: 2, seed: 42 });
    expect(parts.map((p) => [p.train.count, p.test.count])).toEqual([
      [20, 5],
      [20, 5],
    ]);
    const out = join(dir, "from-archive", "cifar10_part_1");
    await savePartition(out, parts[0]!, {
      partition: 1,
      numPartitions: 2,
      partitioner: { type: "iid" },
      seed: 42,
      synthetic: false,
    });
    const notices: string[] = [];
    const loaded = await loadPartition(out, { notice: (l) => notices.push(l) });
    expect(loaded.header.synthetic).toBe(false);
    expect(notices).toEqual([]);
    expect(loaded.train.pixels).toEqual(parts[0]!.train.pixels);
    expect(loaded.test.labels).toEqual(parts[0]!.test.labels);
  });

  it("writes a synthetic stand-in that says so when loaded, once", async () => {
    const outDir = join(dir, "synthetic");
    const result = await prepareCifar10({
      outDir,
      numPartitions: 2,
      source: { kind: "synthetic", count: 200 },
      log: null,
    });
    expect(result.synthetic).toBe(true);
    expect(result.partitions.map((p) => p.dir)).toEqual([
      join(outDir, "cifar10_part_1"),
      join(outDir, "cifar10_part_2"),
    ]);
    const header = JSON.parse(
      await readFile(join(outDir, "cifar10_part_2", "dataset.json"), "utf8"),
    );
    expect(header).toMatchObject({
      format: "flwr-ts-image-dataset",
      synthetic: true,
      partition: 2,
      layout: "NHWC",
    });
    const notices: string[] = [];
    const a = await loadPartition(join(outDir, "cifar10_part_1"), {
      notice: (l) => notices.push(l),
    });
    await loadPartition(join(outDir, "cifar10_part_1"), { notice: (l) => notices.push(l) });
    expect(a.train.synthetic).toBe(true);
    expect(a.train.count + a.test.count).toBe(100);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/SYNTHETIC stand-in for CIFAR-10/);
  });

  it("refuses damaged partition directories with a clear error", async () => {
    const outDir = join(dir, "damaged");
    await prepareCifar10({
      outDir,
      numPartitions: 1,
      source: { kind: "synthetic", count: 50 },
      log: null,
    });
    const part = join(outDir, "cifar10_part_1");
    await writeFile(join(part, "train-labels.u8"), new Uint8Array(3));
    await expect(loadPartition(part, { notice: null })).rejects.toThrow(
      /train-labels.u8 has 3 bytes, expected 40/,
    );
    await expect(loadPartition(join(dir, "nowhere"), { notice: null })).rejects.toThrow(
      /is .* a prepared dataset\? Run flwr-ts-prepare-dataset/,
    );
  });
});

describe("flwr-ts-prepare-dataset CLI", () => {
  const run = async (args: string[]) => {
    let out = "";
    let err = "";
    const code = await runPrepareDataset(args, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  };

  it("prints help, and rejects bad usage with exit code 2", async () => {
    expect((await run(["--help"])).code).toBe(0);
    for (const args of [
      ["--num-partitions", "two"],
      ["--bogus"],
      ["--synthetic", "--from", "x"],
      ["--samples", "5"],
      ["--dirichlet", "0", "--synthetic"],
      ["extra"],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(/^error: [^\n]*See 'flwr-ts-prepare-dataset --help'\.\n$/);
    }
  });

  it("fails with exit code 1 and a clear message on a missing archive", async () => {
    const r = await run(["--from", join(dir, "missing.tar.gz"), "--out", join(dir, "cli-missing")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read .*missing.tar.gz \(ENOENT\)/);
  });

  it("writes synthetic partitions", async () => {
    const out = join(dir, "cli-synthetic");
    const r = await run(["--synthetic", "--samples", "120", "--num-partitions", "3", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n")).toHaveLength(3);
    expect(r.err).toMatch(/NOTICE: writing a SYNTHETIC stand-in/);
  });
});

/**
 * Measures @flwr-ts/crypto: certificate generation (ec-p384, rsa-4096),
 * SuperNode key generation, and the per-request cost of signing, verifying
 * and replay checking. Run: `npx tsx bench/crypto-keygen.ts [rsaRuns]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateAuthKeys,
  generateCertificates,
  generateEcKeyPair,
  ReplayCache,
  RequestSigner,
  SignatureVerifier,
} from "../packages/flwr-crypto/src/index.js";

const dir = mkdtempSync(join(tmpdir(), "flwr-crypto-bench-"));
const rsaRuns = Number(process.argv[2] ?? 5);

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((s, v) => s + v, 0) / samples.length;
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `mean ${mean.toFixed(1)} ms, median ${median.toFixed(1)} ms, min ${sorted[0]!.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms (n=${samples.length})`;
}

async function timeCerts(keyType: "ec-p384" | "rsa-4096", runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await generateCertificates({ outDir: join(dir, `${keyType}-${i}`), keyType, overwrite: true });
    out.push(performance.now() - t);
  }
  return out;
}

function perOp(label: string, n: number, f: (i: number) => void): void {
  const t = performance.now();
  for (let i = 0; i < n; i++) f(i);
  const ms = performance.now() - t;
  console.log(
    `${label}: ${((ms * 1000) / n).toFixed(1)} µs/op, ${Math.round((n / ms) * 1000)} ops/s (n=${n})`,
  );
}

try {
  await timeCerts("ec-p384", 1); // warm-up
  console.log(`gen-certs ec-p384 (CA + server, 4 files): ${stats(await timeCerts("ec-p384", 10))}`);
  console.log(
    `gen-certs rsa-4096 (CA + server, 4 files): ${stats(await timeCerts("rsa-4096", rsaRuns))}`,
  );

  const keyTimes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    generateAuthKeys({ outDir: join(dir, `keys-${i}`), count: 1 });
    keyTimes.push(performance.now() - t);
  }
  console.log(`gen-keys, one P-384 OpenSSH pair (2 files): ${stats(keyTimes)}`);
  const t100 = performance.now();
  generateAuthKeys({ outDir: join(dir, "keys-100"), count: 100 });
  console.log(`gen-keys 100: ${(performance.now() - t100).toFixed(0)} ms`);

  const { privateKey } = generateEcKeyPair("P-384");
  const signer = new RequestSigner(privateKey);
  const signed = Array.from({ length: 2000 }, () => signer.sign());
  perOp("RequestSigner.sign (P-384, ECDSA-SHA256)", 2000, () => signer.sign());
  const verifier = new SignatureVerifier();
  perOp("SignatureVerifier.verify (cached key)", 2000, (i) => verifier.verify(signed[i]!));
  const keys = Array.from({ length: 200 }, () =>
    new RequestSigner(generateEcKeyPair("P-384").privateKey).sign(),
  );
  perOp("SignatureVerifier.verify (cold key, parse + verify)", 200, (i) =>
    new SignatureVerifier().verify(keys[i]!),
  );
  const replay = new ReplayCache();
  perOp("ReplayCache.checkAndRemember", 200_000, (i) =>
    replay.checkAndRemember(signed[i % 2000]!["flwr-public-key-bin"], `${i}`, Date.now() * 1000),
  );
  const heap = process.memoryUsage().heapUsed;
  const big = new ReplayCache();
  for (let i = 0; i < 200_000; i++)
    big.checkAndRemember(
      signed[i % 2000]!["flwr-public-key-bin"],
      `2026-03-29T20:47:21.${i}+00:00`,
      Date.now() * 1000,
    );
  console.log(
    `ReplayCache memory: ~${Math.round((process.memoryUsage().heapUsed - heap) / 200_000)} bytes/entry (200k entries)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

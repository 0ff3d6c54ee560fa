/**
 * Interoperability with the pinned Python Flower (1.29.0): Flower's own
 * interceptors, key loaders and serializers check what flwr-ts produces, and
 * flwr-ts checks what Flower produces.
 */
import type { KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { pythonFlwrAvailable, pythonFlwrProblem, runPython } from "../../../interop/python.js";
import {
  formatFlowerTimestamp,
  formatOpenSshPublicKey,
  generateAuthKeys,
  generateEcKeyPair,
  loadPrivateKey,
  loadPublicKey,
  PUBLIC_KEY_HEADER,
  parseFlowerTimestamp,
  publicKeyToPem,
  RequestSigner,
  SIGNATURE_HEADER,
  SignatureVerifier,
  signTimestamp,
  TIMESTAMP_HEADER,
} from "../src/index.js";
import { tempDir } from "./helpers.js";

const script = (name: string) => readFileSync(join(import.meta.dirname, "python", name), "utf8");
if (!pythonFlwrAvailable) console.warn(`skipping Python interop: ${pythonFlwrProblem}`);

describe.skipIf(!pythonFlwrAvailable)("Python Flower checks flwr-ts", () => {
  const dir = tempDir();
  const NOW_US = Date.parse("2026-03-29T20:47:21Z") * 1000;
  type Case = { pem: string; ts: string; sig: string; expect: string };
  const cases: Case[] = [];
  const keyFiles: { private: string; public: string; pem: string }[] = [];
  let result: {
    cases: string[];
    keys: { supernode: string; cli: string; reparsed: string; curve: string }[];
  };

  beforeAll(() => {
    const add = (key: KeyObject, offsetUs: number, expected: string) => {
      const md = new RequestSigner(key, () => NOW_US + offsetUs).sign();
      cases.push({
        pem: md[PUBLIC_KEY_HEADER].toString("base64"),
        ts: md[TIMESTAMP_HEADER],
        sig: md[SIGNATURE_HEADER].toString("base64"),
        expect: expected,
      });
    };
    for (const curve of ["P-256", "P-384", "P-521"] as const) {
      const [key] = generateAuthKeys({ outDir: join(dir, curve), count: 1, curve });
      keyFiles.push({
        private: key!.privateKeyPath,
        public: key!.publicKeyPath,
        pem: Buffer.from(key!.publicKeyPem).toString("base64"),
      });
      const signer = loadPrivateKey(key!.privateKeyPath);
      add(signer, 0, "ok");
      add(signer, 123_456, "ok");
      add(signer, -304_900_000, "ok");
      add(signer, -305_000_000, "UNAUTHENTICATED: Invalid timestamp");
      add(signer, 4_900_000, "ok");
      add(signer, 5_000_000, "UNAUTHENTICATED: Invalid timestamp");
    }
    // a signature by another key
    const a = generateEcKeyPair().privateKey;
    const b = generateEcKeyPair().privateKey;
    const ts = formatFlowerTimestamp(NOW_US);
    cases.push({
      pem: Buffer.from(publicKeyToPem(a)).toString("base64"),
      ts,
      sig: signTimestamp(b, ts).toString("base64"),
      expect: "UNAUTHENTICATED: Invalid signature",
    });
    result = JSON.parse(
      runPython(
        script("verify_with_flower.py"),
        [],
        JSON.stringify({ now: formatFlowerTimestamp(NOW_US), cases, keys: keyFiles }),
      ),
    );
  });

  it("NodeAuthServerInterceptor accepts our signatures inside its window and rejects outside", () => {
    expect(result.cases).toEqual(cases.map((c) => c.expect));
  });

  it("the SuperNode loads our OpenSSH private keys and derives our PEM byte for byte", () => {
    for (const [i, k] of result.keys.entries()) {
      const pem = Buffer.from(keyFiles[i]!.pem, "base64").toString();
      expect(k.supernode).toBe(pem);
      expect(k.cli).toBe(pem); // `flwr supernode register` reading our .pub
      expect(k.reparsed).toBe(pem); // the SuperLink's bytes_to_public_key + public_key_to_bytes
    }
    expect(result.keys.map((k) => k.curve)).toEqual(["secp256r1", "secp384r1", "secp521r1"]);
  });
});

describe.skipIf(!pythonFlwrAvailable)("flwr-ts checks Python Flower", () => {
  const dir = tempDir();
  const micros = [
    0, 1, 999_999, 1_000_000, 1_774_817_241_000_000, 1_774_817_241_123_456, 1_774_817_241_100_000,
    -1, 4_102_444_800_000_001,
  ];
  const texts = [
    "2026-03-29T20:47:21+00:00",
    "2026-03-29T20:47:21.123456+00:00",
    "2026-03-29T20:47:21.1+00:00",
    "2026-03-29T20:47:21.1234567+00:00",
    "2026-03-29T20:47:21Z",
    "2026-03-29 20:47:21+00:00",
    "2026-03-29T20:47:21,5+00:00",
    "2026-03-29T22:47:21+02:00",
    "2026-03-29T22:47:21+0200",
    "2026-03-29T20:47+00:00",
    "2026-03-29T20:47:21-05:30",
    "2026-03-29T20:47:21+00:00:30.5",
    "2026-03-29T20:47:21",
    "2026-03-29T24:00:00+00:00",
    "2026-02-29T00:00:00+00:00",
    "2024-02-29T00:00:00+00:00",
    "2026-03-29T20:47:60+00:00",
    "garbage",
    "",
  ];
  let py: {
    keys: {
      curve: string;
      pem: string;
      sshPublic: string;
      files: Record<"openssh" | "pkcs8" | "sec1", string>;
      metadata: Record<string, string>[];
    }[];
    formatted: string[];
    parsed: (number | "naive" | null)[];
  };
  beforeAll(() => {
    py = JSON.parse(
      runPython(script("sign_with_flower.py"), [
        dir,
        JSON.stringify(micros),
        JSON.stringify(texts),
      ]),
    );
  });

  it("verifies metadata from Flower's NodeAuthClientInterceptor", () => {
    const verifier = new SignatureVerifier();
    for (const k of py.keys)
      for (const md of k.metadata) {
        const r = verifier.verify({
          [PUBLIC_KEY_HEADER]: Buffer.from(md[PUBLIC_KEY_HEADER]!, "hex"),
          [TIMESTAMP_HEADER]: md[TIMESTAMP_HEADER],
          [SIGNATURE_HEADER]: Buffer.from(md[SIGNATURE_HEADER]!, "hex"),
        });
        expect(r).toMatchObject({ ok: true, publicKeyPem: k.pem, timestamp: md[TIMESTAMP_HEADER] });
      }
  });

  it("derives Flower's PEM byte for byte from Python's OpenSSH, PKCS#8 and SEC1 private keys", () => {
    for (const k of py.keys) {
      for (const file of Object.values(k.files))
        expect(publicKeyToPem(loadPrivateKey(file))).toBe(k.pem);
      const pubPath = join(dir, `${k.curve}.pub`);
      writeFileSync(pubPath, k.sshPublic);
      expect(publicKeyToPem(loadPublicKey(pubPath))).toBe(k.pem);
      expect(formatOpenSshPublicKey(loadPrivateKey(k.files.openssh)).trim()).toBe(
        k.sshPublic.trim(),
      );
    }
  });

  it("formats timestamps exactly as Python's isoformat()", () => {
    expect(micros.map(formatFlowerTimestamp)).toEqual(py.formatted);
  });

  it("parses timestamps like Python's fromisoformat() (rejecting naive ones)", () => {
    expect(texts.map(parseFlowerTimestamp)).toEqual(
      py.parsed.map((p) => (p === "naive" || p === null ? undefined : p)),
    );
  });
});

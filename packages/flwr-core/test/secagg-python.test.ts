/**
 * SecAgg+ primitives against the pinned Python Flower 1.29 (test/support/secagg_vectors.py):
 * Python generates (numpy masks, pycryptodome shares, keys, Fernet tokens) and TS reproduces or
 * opens them; then Python combines, derives and decrypts what TS produced.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pythonFlwrAvailable, pythonFlwrProblem, runPython } from "../../../interop/python.js";
import { fernetDecrypt, fernetEncrypt } from "../src/secagg/fernet.js";
import { deriveSharedKey, generateSecAggKeyPair } from "../src/secagg/key-agreement.js";
import { pseudoRandGen } from "../src/secagg/prg.js";
import { combineShares, createShares } from "../src/secagg/shamir.js";
import { concatSharePlaintext, separateSharePlaintext } from "../src/secagg/share-plaintext.js";

const script = readFileSync(join(import.meta.dirname, "support", "secagg_vectors.py"), "utf8");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

interface Generated {
  prg: { seed: string; num_range: number; shapes: number[][]; masks: number[][] }[];
  shamir_exact: { secret: string; threshold: number; num: number; shares: string[] };
  shamir_random: { secret: string; shares: string[] };
  keys: { sk1: string; pk1: string; sk2: string; pk2: string; shared: string };
  plaintext: string;
  token: string;
  token_exact: string;
}

describe.skipIf(!pythonFlwrAvailable)(
  `SecAgg+ primitives equal Flower 1.29's ${pythonFlwrProblem ?? ""}`,
  () => {
    const py = pythonFlwrAvailable
      ? (JSON.parse(runPython(script, [], JSON.stringify({ mode: "generate" }))) as Generated)
      : undefined;

    it("expands seeds into numpy's RandomState masks bit for bit", () => {
      for (const v of py!.prg) {
        const masks = pseudoRandGen(unhex(v.seed), v.num_range, v.shapes);
        expect(masks.map((m) => [...m])).toEqual(v.masks);
      }
    });

    it("makes pycryptodome's Shamir shares byte for byte from the same coefficients", () => {
      const e = py!.shamir_exact;
      let counter = 0;
      const fakeRng = (n: number) => {
        counter += 1;
        return Uint8Array.from({ length: n }, (_, i) => (counter * 31 + i * 7) & 0xff);
      };
      const shares = createShares(unhex(e.secret), e.threshold, e.num, fakeRng);
      expect(shares.map(hex)).toEqual(e.shares);
    });

    it("combines Python's shares from any threshold-sized subset, and rejects too few", () => {
      const r = py!.shamir_random;
      const shares = r.shares.map(unhex);
      expect(hex(combineShares([shares[0]!, shares[2]!, shares[4]!]))).toBe(r.secret);
      expect(hex(combineShares(shares))).toBe(r.secret);
      expect(() => hex(combineShares([shares[1]!, shares[3]!]))).toThrow();
    });

    it("derives Python's pairwise key from either side and opens Python's Fernet token", () => {
      const k = py!.keys;
      expect(hex(deriveSharedKey(unhex(k.sk1), unhex(k.pk2)))).toBe(k.shared);
      expect(hex(deriveSharedKey(unhex(k.sk2), unhex(k.pk1)))).toBe(k.shared);
      const plain = fernetDecrypt(unhex(k.shared), unhex(py!.token));
      expect(hex(plain)).toBe(py!.plaintext);
      const p = separateSharePlaintext(plain);
      expect(p.src).toBe(2n ** 64n - 5n);
      expect(p.dst).toBe(12345n);
      expect(hex(concatSharePlaintext(p))).toBe(py!.plaintext);
      const exact = fernetEncrypt(
        unhex(k.shared),
        plain,
        1700000000,
        Uint8Array.from({ length: 16 }, (_, i) => i),
      );
      expect(hex(exact)).toBe(py!.token_exact);
      const tampered = unhex(py!.token);
      tampered[10] = tampered[10] === 0x41 ? 0x42 : 0x41;
      expect(() => fernetDecrypt(unhex(k.shared), tampered)).toThrow();
    });

    it("Python combines TS's shares, derives TS's keys and decrypts TS's tokens", () => {
      const ts = generateSecAggKeyPair();
      const secret = ts.privateKeyPem;
      const shares = createShares(secret, 4, 7);
      const k = py!.keys;
      const key = deriveSharedKey(ts.privateKeyPem, unhex(k.pk1));
      const message = new Uint8Array(Buffer.from("share for node 7"));
      const out = JSON.parse(
        runPython(
          script,
          [],
          JSON.stringify({
            mode: "check",
            shamir: {
              subsets: [
                [0, 1, 2, 3],
                [6, 4, 2, 0],
                [0, 1, 2, 3, 4, 5, 6],
              ].map((ix) => ix.map((i) => hex(shares[i]!))),
            },
            keys: { py_sk: k.sk1, ts_pk: hex(ts.publicKeyPem), ts_sk: hex(ts.privateKeyPem) },
            fernet: { key: hex(key), token: hex(fernetEncrypt(key, message)) },
          }),
        ),
      ) as { shamir: string[]; shared: string; decrypted: string; pem_loads: string };
      expect(out.shamir).toEqual([hex(secret), hex(secret), hex(secret)]);
      expect(out.shared).toBe(hex(key));
      expect(out.decrypted).toBe(hex(message));
      expect(out.pem_loads).toBe("secp384r1");
    });
  },
);

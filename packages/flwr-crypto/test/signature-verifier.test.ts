import { generateKeyPairSync, sign } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AuthMetadata,
  formatFlowerTimestamp,
  generateEcKeyPair,
  MAX_TIMESTAMP_DIFF_MICROS,
  MIN_TIMESTAMP_DIFF_MICROS,
  PUBLIC_KEY_HEADER,
  parseFlowerTimestamp,
  publicKeyToPem,
  type ReceivedAuthMetadata,
  RequestSigner,
  SIGNATURE_HEADER,
  SignatureVerifier,
  signTimestamp,
  TIMESTAMP_HEADER,
} from "../src/index.js";

const NOW_MS = Date.parse("2026-03-29T20:47:21.000Z");
const NOW_US = NOW_MS * 1000;
const { privateKey } = generateEcKeyPair("P-384");
const verifier = new SignatureVerifier({ clock: () => NOW_MS });

/** Metadata signed at `NOW + offsetUs`. */
function signedAt(offsetUs: number, key = privateKey): AuthMetadata {
  return new RequestSigner(key, () => NOW_US + offsetUs).sign();
}

describe("formatFlowerTimestamp", () => {
  it("prints Python isoformat(): fraction only when microseconds are non-zero", () => {
    expect(formatFlowerTimestamp(NOW_US)).toBe("2026-03-29T20:47:21+00:00");
    expect(formatFlowerTimestamp(NOW_US + 1)).toBe("2026-03-29T20:47:21.000001+00:00");
    expect(formatFlowerTimestamp(NOW_US + 123_000)).toBe("2026-03-29T20:47:21.123000+00:00");
    expect(formatFlowerTimestamp(NOW_US + 999_999)).toBe("2026-03-29T20:47:21.999999+00:00");
    expect(formatFlowerTimestamp(-1)).toBe("1969-12-31T23:59:59.999999+00:00");
  });

  it("round-trips through parseFlowerTimestamp", () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_208_988_800_000_000, max: 7_258_118_400_000_000 }), (us) => {
        expect(parseFlowerTimestamp(formatFlowerTimestamp(us))).toBe(us);
      }),
    );
  });
});

describe("parseFlowerTimestamp", () => {
  it("accepts the forms Python 3.11 fromisoformat reads, with an offset", () => {
    const cases: [string, number][] = [
      ["2026-03-29T20:47:21+00:00", NOW_US],
      ["2026-03-29T20:47:21.5+00:00", NOW_US + 500_000],
      ["2026-03-29T20:47:21,25+00:00", NOW_US + 250_000],
      ["2026-03-29T20:47:21.1234567+00:00", NOW_US + 123_456],
      ["2026-03-29T20:47:21Z", NOW_US],
      ["2026-03-29 20:47:21+00:00", NOW_US],
      ["2026-03-29T22:47:21+02:00", NOW_US],
      ["2026-03-29T22:47:21+0200", NOW_US],
      ["2026-03-29T20:47:21-00:00", NOW_US],
      ["2026-03-29T20:47+00:00", NOW_US - 21_000_000],
      ["2026-03-29T20:47:21+00:00:01.5", NOW_US - 1_500_000],
    ];
    for (const [text, us] of cases) expect(parseFlowerTimestamp(text), text).toBe(us);
  });

  it("rejects naive, garbage and out-of-range timestamps", () => {
    for (const text of [
      "2026-03-29T20:47:21",
      "",
      "now",
      "2026-03-29",
      "2026-13-01T00:00:00+00:00",
      "2026-02-30T00:00:00+00:00",
      "2026-03-29T24:00:00+00:00",
      "2026-03-29T20:60:00+00:00",
      "2026-03-29T20:47:60+00:00",
      "2026-03-29T20:47:21+24:00",
      "0000-01-01T00:00:00+00:00",
      "2026-03-29T20:47:21.+00:00",
      "2026-03-29T20:47:21 +00:00",
      "1774817241",
    ])
      expect(parseFlowerTimestamp(text), text).toBeUndefined();
  });
});

describe("RequestSigner", () => {
  it("produces Flower's three entries, DER ECDSA-SHA256 over the ASCII timestamp", () => {
    const md = signedAt(123_456);
    expect(Object.keys(md).sort()).toEqual(
      [PUBLIC_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER].sort(),
    );
    expect(md[PUBLIC_KEY_HEADER].toString()).toBe(publicKeyToPem(privateKey));
    expect(md[TIMESTAMP_HEADER]).toBe("2026-03-29T20:47:21.123456+00:00");
    expect(md[SIGNATURE_HEADER][0]).toBe(0x30); // DER SEQUENCE
    expect(md[SIGNATURE_HEADER].length).toBeGreaterThanOrEqual(100);
    expect(md[SIGNATURE_HEADER].length).toBeLessThanOrEqual(104);
  });

  it("never repeats a timestamp, even with a stuck clock", () => {
    const signer = new RequestSigner(privateKey, () => NOW_US);
    const stamps = Array.from({ length: 5 }, () => signer.sign()[TIMESTAMP_HEADER]);
    expect(new Set(stamps).size).toBe(5);
    expect(stamps[0]).toBe("2026-03-29T20:47:21+00:00");
    expect(stamps[1]).toBe("2026-03-29T20:47:21.000001+00:00");
  });

  it("uses the real clock by default", () => {
    const md = new RequestSigner(privateKey).sign();
    const us = parseFlowerTimestamp(md[TIMESTAMP_HEADER])!;
    expect(Math.abs(us / 1000 - Date.now())).toBeLessThan(5_000);
    expect(new SignatureVerifier().verify(md).ok).toBe(true);
  });

  it("refuses RSA and Ed25519 keys with a one-line error", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    expect(() => new RequestSigner(rsa)).toThrow(
      /the signing key is an RSA key; SuperNode keys must be ECDSA/,
    );
    const ed = generateKeyPairSync("ed25519").privateKey;
    expect(() => new RequestSigner(ed)).toThrow(/the signing key is an Ed25519 key/);
  });
});

describe("SignatureVerifier", () => {
  it("accepts a fresh request and returns the exact public key bytes", () => {
    const md = signedAt(0);
    const r = verifier.verify(md);
    expect(r).toEqual({
      ok: true,
      publicKeyPem: publicKeyToPem(privateKey),
      publicKey: md[PUBLIC_KEY_HEADER],
      timestamp: "2026-03-29T20:47:21+00:00",
      timestampMicros: NOW_US,
    });
  });

  it.each([
    [-304_900_000, true, undefined],
    [-305_000_000, false, "stale"],
    [-305_000_001, false, "stale"],
    [-304_999_999, true, undefined],
    [4_900_000, true, undefined],
    [5_000_000, false, "future"],
    [4_999_999, true, undefined],
    [3_600_000_000, false, "future"],
  ])("window boundary: timestamp = now %+i µs -> ok=%s", (offset, ok, reason) => {
    const r = verifier.verify(signedAt(offset));
    expect(r.ok).toBe(ok);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.message).toBe("Invalid timestamp");
    }
  });

  it("missing, empty, duplicated or wrongly typed entries -> missing", () => {
    const md = signedAt(0);
    const variants: ReceivedAuthMetadata[] = [
      { ...md, [PUBLIC_KEY_HEADER]: undefined },
      { ...md, [TIMESTAMP_HEADER]: undefined },
      { ...md, [SIGNATURE_HEADER]: undefined },
      { ...md, [SIGNATURE_HEADER]: Buffer.alloc(0) },
      { ...md, [TIMESTAMP_HEADER]: "" },
      { ...md, [TIMESTAMP_HEADER]: [] },
      { ...md, [SIGNATURE_HEADER]: [md[SIGNATURE_HEADER], md[SIGNATURE_HEADER]] },
      { ...md, [PUBLIC_KEY_HEADER]: md[PUBLIC_KEY_HEADER].toString() },
      { ...md, [TIMESTAMP_HEADER]: Buffer.from(md[TIMESTAMP_HEADER]) },
    ];
    for (const v of variants)
      expect(verifier.verify(v)).toEqual({
        ok: false,
        reason: "missing",
        message: "Missing authentication metadata",
      });
    // grpc-js style single-element arrays are fine
    expect(
      verifier.verify({
        [PUBLIC_KEY_HEADER]: [md[PUBLIC_KEY_HEADER]],
        [TIMESTAMP_HEADER]: [md[TIMESTAMP_HEADER]],
        [SIGNATURE_HEADER]: [md[SIGNATURE_HEADER]],
      }).ok,
    ).toBe(true);
  });

  it("bad signatures: other key, other timestamp, garbage, raw r||s", () => {
    const md = signedAt(0);
    const other = generateEcKeyPair("P-384").privateKey;
    const rawSig = sign("sha256", Buffer.from(md[TIMESTAMP_HEADER]), {
      key: privateKey,
      dsaEncoding: "ieee-p1363",
    });
    for (const signature of [
      signTimestamp(other, md[TIMESTAMP_HEADER]),
      signTimestamp(privateKey, formatFlowerTimestamp(NOW_US + 1)),
      Buffer.from("garbage"),
      rawSig,
    ]) {
      const r = verifier.verify({ ...md, [SIGNATURE_HEADER]: signature });
      expect(r).toEqual({ ok: false, reason: "bad-signature", message: "Invalid signature" });
    }
    const swapped = { ...md, [PUBLIC_KEY_HEADER]: Buffer.from(publicKeyToPem(other)) };
    expect(verifier.verify(swapped)).toMatchObject({ ok: false, reason: "bad-signature" });
  });

  it("malformed keys and timestamps", () => {
    const md = signedAt(0);
    for (const key of [
      Buffer.from("not a pem"),
      Buffer.from("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
    ])
      expect(verifier.verify({ ...md, [PUBLIC_KEY_HEADER]: key })).toMatchObject({
        ok: false,
        reason: "malformed-key",
      });
    const naive = "2026-03-29T20:47:21";
    const r = verifier.verify({
      ...md,
      [TIMESTAMP_HEADER]: naive,
      [SIGNATURE_HEADER]: signTimestamp(privateKey, naive),
    });
    expect(r).toMatchObject({
      ok: false,
      reason: "malformed-timestamp",
      message: "Invalid timestamp",
    });
    expect(
      verifier.verify({ ...md, [TIMESTAMP_HEADER]: "2026-03-29T20:47:21+00:00\u00e9" }),
    ).toMatchObject({
      ok: false,
      reason: "malformed-timestamp",
    });
  });

  it("verifies P-256 and P-521 keys too, and accepts Z and other offsets when signed", () => {
    for (const curve of ["P-256", "P-521"] as const)
      expect(verifier.verify(signedAt(0, generateEcKeyPair(curve).privateKey)).ok).toBe(true);
    const ts = "2026-03-29T22:47:21.5+02:00";
    const md = signedAt(0);
    expect(
      verifier.verify({
        ...md,
        [TIMESTAMP_HEADER]: ts,
        [SIGNATURE_HEADER]: signTimestamp(privateKey, ts),
      }),
    ).toMatchObject({
      ok: true,
      timestampMicros: NOW_US + 500_000,
    });
  });

  it("caches parsed keys in a bounded LRU", () => {
    const v = new SignatureVerifier({ clock: () => NOW_MS, keyCacheSize: 2 });
    const keys = [0, 1, 2].map(() => generateEcKeyPair("P-384").privateKey);
    for (const k of keys) expect(v.verify(signedAt(0, k)).ok).toBe(true);
    expect(v.cachedKeyCount).toBe(2);
    expect(v.verify(signedAt(0, keys[0]!)).ok).toBe(true);
    expect(v.cachedKeyCount).toBe(2);
  });

  it("caches a key only once its signature verified; junk after the PEM is refused", async () => {
    const v = new SignatureVerifier({ clock: () => NOW_MS });
    const good = signedAt(0);
    const pem = Buffer.from(good[PUBLIC_KEY_HEADER]).toString("latin1");
    // A valid key with a bogus signature: refused, not cached (an anonymous caller pins nothing).
    for (let i = 0; i < 20; i++) {
      const forged = { ...good, [SIGNATURE_HEADER]: Buffer.from(`not a signature ${i}`) };
      expect(v.verify(forged)).toMatchObject({ ok: false, reason: "bad-signature" });
      expect(await v.verifyAsync(forged)).toMatchObject({ ok: false, reason: "bad-signature" });
    }
    expect(v.cachedKeyCount).toBe(0);
    // The same key plus trailing junk (which a lenient PEM parser ignores): a malformed key.
    for (const junk of ["x".repeat(40_000), "\n-----BEGIN PUBLIC KEY-----\n", "junk"])
      expect(v.verify({ ...good, [PUBLIC_KEY_HEADER]: Buffer.from(pem + junk) })).toMatchObject({
        ok: false,
        reason: "malformed-key",
      });
    expect(v.cachedKeyCount).toBe(0);
    expect(v.verify(good).ok).toBe(true);
    expect(v.cachedKeyCount).toBe(1);
  });

  it("refuses oversized timestamps and signatures before any parsing", () => {
    const good = signedAt(0);
    const ts = String(good[TIMESTAMP_HEADER]);
    const long = `${ts.slice(0, 26)}${"0".repeat(10_000)}${ts.slice(26)}`;
    expect(verifier.verify({ ...good, [TIMESTAMP_HEADER]: long })).toMatchObject({
      ok: false,
      reason: "malformed-timestamp",
    });
    expect(
      verifier.verify({ ...good, [SIGNATURE_HEADER]: Buffer.alloc(64 * 1024, 1) }),
    ).toMatchObject({ ok: false, reason: "bad-signature" });
  });
});

describe("async signing and verification (libuv thread pool)", () => {
  it("signAsync produces what verify accepts, with strictly increasing timestamps", async () => {
    const signer = new RequestSigner(privateKey, () => NOW_US);
    const [a, b] = await Promise.all([signer.signAsync(), signer.signAsync()]);
    expect(a[TIMESTAMP_HEADER]).toBe(formatFlowerTimestamp(NOW_US));
    expect(b[TIMESTAMP_HEADER]).toBe(formatFlowerTimestamp(NOW_US + 1));
    for (const md of [a, b]) {
      expect(verifier.verify(md).ok).toBe(true);
      expect((await verifier.verifyAsync(md)).ok).toBe(true);
    }
  });

  it("verifyAsync gives verify's verdict on every kind of bad input", async () => {
    const md = signedAt(0);
    const other = generateEcKeyPair("P-384").privateKey;
    const cases: ReceivedAuthMetadata[] = [
      md,
      { ...md, [SIGNATURE_HEADER]: signTimestamp(other, md[TIMESTAMP_HEADER]) },
      { ...md, [SIGNATURE_HEADER]: Buffer.from("garbage") },
      { ...md, [PUBLIC_KEY_HEADER]: Buffer.from(publicKeyToPem(other)) },
      { ...md, [PUBLIC_KEY_HEADER]: Buffer.from("not a key") },
      { ...md, [SIGNATURE_HEADER]: [] },
      signedAt(-MAX_TIMESTAMP_DIFF_MICROS - 1),
      signedAt(-MIN_TIMESTAMP_DIFF_MICROS + 1),
    ];
    const verdicts = cases.map((c) => verifier.verify(c));
    expect(verdicts.map((v) => (v.ok ? "ok" : v.reason))).toEqual([
      "ok",
      "bad-signature",
      "bad-signature",
      "bad-signature",
      "malformed-key",
      "missing",
      "stale",
      "future",
    ]);
    for (const [i, c] of cases.entries())
      expect(await verifier.verifyAsync(c)).toEqual(verdicts[i]);
  });
});

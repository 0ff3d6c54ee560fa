import { createPrivateKey, generateKeyPairSync, sign, verify } from "node:crypto";
import {
  formatFlowerTimestamp as cryptoFormat,
  PUBLIC_KEY_HEADER,
  parsePublicKey,
  publicKeyToPem,
  SIGNATURE_HEADER,
  SignatureVerifier,
  TIMESTAMP_HEADER,
} from "@flwr-ts/crypto";
import { describe, expect, test } from "vitest";
import { p1363ToDer } from "./der-signature.js";
import { formatFlowerTimestamp } from "./flower-timestamp.js";
import { generateSuperNodeKey, importSuperNodeKey } from "./web-key.js";
import {
  PUBLIC_KEY_HTTP_HEADER,
  SIGNATURE_HTTP_HEADER,
  TIMESTAMP_HTTP_HEADER,
  WebRequestSigner,
} from "./web-signer.js";

/** The headers as the SuperLink's HTTP auth codec hands them to the verifier. */
function received(headers: Record<string, string>) {
  return {
    [PUBLIC_KEY_HEADER]: Buffer.from(headers[PUBLIC_KEY_HTTP_HEADER]!, "base64"),
    [TIMESTAMP_HEADER]: headers[TIMESTAMP_HTTP_HEADER]!,
    [SIGNATURE_HEADER]: Buffer.from(headers[SIGNATURE_HTTP_HEADER]!, "base64"),
  };
}

describe("WebCrypto SuperNode signatures", () => {
  test("P1363 → DER verifies with Node's DER verifier, for P-256/384/521 and many signatures", () => {
    for (const namedCurve of ["P-256", "P-384", "P-521"]) {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve });
      for (let i = 0; i < 64; i++) {
        const data = Buffer.from(`2026-12-08T01:00:00.${String(i).padStart(6, "0")}+00:00`);
        const p1363 = sign("sha256", data, { key: privateKey, dsaEncoding: "ieee-p1363" });
        const der = p1363ToDer(p1363);
        expect(verify("sha256", data, { key: publicKey, dsaEncoding: "der" }, der)).toBe(true);
      }
    }
    expect(() => p1363ToDer(new Uint8Array(3))).toThrow(RangeError);
  });

  test("DER integers are minimal: leading zeros dropped, a zero byte before a high bit", () => {
    const r = new Uint8Array(48);
    r[47] = 1;
    const s = new Uint8Array(48).fill(0xff);
    const der = p1363ToDer(Uint8Array.from([...r, ...s]));
    expect(Buffer.from(der).toString("hex")).toBe(`3036020101023100${"ff".repeat(48)}`);
  });

  test("timestamps are formatted exactly as @flwr-ts/crypto formats them", () => {
    for (const micros of [0, 1, 999_999, 1_765_155_600_000_000, 1_765_155_600_123_456])
      expect(formatFlowerTimestamp(micros)).toBe(cryptoFormat(micros));
  });

  test("a generated key: the OpenSSH line registers the same PEM the headers carry; the verifier accepts the signatures", async () => {
    const key = await generateSuperNodeKey("browser");
    expect(key.privateKey.extractable).toBe(false);
    expect(key.openSshPublicKey).toMatch(/^ecdsa-sha2-nistp384 AAAA[A-Za-z0-9+/=]+ browser$/);
    // What `flwr supernode register <pub>` stores: the PEM of the parsed OpenSSH key.
    const registered = publicKeyToPem(parsePublicKey(key.openSshPublicKey));
    expect(key.publicKeyPem).toBe(registered);
    const signer = new WebRequestSigner(key);
    const verifier = new SignatureVerifier();
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const headers = await signer.headers();
      expect(seen.has(headers[TIMESTAMP_HTTP_HEADER]!)).toBe(false);
      seen.add(headers[TIMESTAMP_HTTP_HEADER]!);
      const result = verifier.verify(received(headers));
      expect(result).toMatchObject({ ok: true, publicKeyPem: registered });
    }
  });

  test("a clock 400 s behind is refused as stale; a tampered signature as invalid", async () => {
    const key = await generateSuperNodeKey();
    const verifier = new SignatureVerifier();
    const stale = await new WebRequestSigner(key, -400_000).headers();
    expect(verifier.verify(received(stale))).toMatchObject({ ok: false, reason: "stale" });
    const headers = await new WebRequestSigner(key).headers();
    const sig = Buffer.from(headers[SIGNATURE_HTTP_HEADER]!, "base64");
    sig[sig.length - 1]! ^= 1;
    headers[SIGNATURE_HTTP_HEADER] = sig.toString("base64");
    expect(verifier.verify(received(headers))).toMatchObject({
      ok: false,
      reason: "bad-signature",
    });
  });

  test("an imported PKCS#8 key keeps its public key and signs verifiably; other files are refused", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const key = await importSuperNodeKey(pem);
    expect(key.privateKey.extractable).toBe(false);
    expect(key.publicKeyPem).toBe(publicKeyToPem(createPrivateKey(pem)));
    const headers = await new WebRequestSigner(key).headers();
    expect(new SignatureVerifier().verify(received(headers)).ok).toBe(true);
    await expect(importSuperNodeKey("ssh-rsa AAAA")).rejects.toThrow(/PKCS#8/);
  });
});

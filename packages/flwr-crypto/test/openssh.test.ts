import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CryptoError,
  formatOpenSshPrivateKey,
  formatOpenSshPublicKey,
  generateAuthKeys,
  generateEcKeyPair,
  loadPrivateKey,
  loadPublicKey,
  publicKeyToPem,
} from "../src/index.js";
import { run, sshKeygen, tempDir, thrown } from "./helpers.js";

const dir = tempDir();

/** Splits an openssh-key-v1 body into its fields (independent re-implementation for the test). */
function dissect(file: string) {
  const b64 = file
    .split("\n")
    .filter((l) => l && !l.startsWith("-----"))
    .join("");
  const buf = Buffer.from(b64, "base64");
  let o = 0;
  const u32 = () => {
    const v = buf.readUInt32BE(o);
    o += 4;
    return v;
  };
  const str = () => {
    const n = u32();
    const s = buf.subarray(o, o + n);
    o += n;
    return s;
  };
  const magic = buf.subarray(0, 15).toString("latin1");
  o = 15;
  const cipher = str().toString();
  const kdf = str().toString();
  const kdfOptions = str();
  const nkeys = u32();
  const pub = str();
  const priv = str();
  const tail = buf.length - o;
  const p = { buf: priv, o: 0 };
  const pu32 = () => {
    const v = p.buf.readUInt32BE(p.o);
    p.o += 4;
    return v;
  };
  const pstr = () => {
    const n = pu32();
    const s = p.buf.subarray(p.o, p.o + n);
    p.o += n;
    return s;
  };
  const check1 = pu32();
  const check2 = pu32();
  const keyType = pstr().toString();
  const curve = pstr().toString();
  const point = pstr();
  const d = pstr();
  const comment = pstr().toString();
  const padding = [...p.buf.subarray(p.o)];
  const lineLengths = file
    .split("\n")
    .filter((l) => l && !l.startsWith("-----"))
    .map((l) => l.length);
  return {
    magic,
    cipher,
    kdf,
    kdfOptionsLength: kdfOptions.length,
    nkeys,
    pubLength: pub.length,
    privLength: priv.length,
    tail,
    checksEqual: check1 === check2,
    keyType,
    curve,
    pointLength: point.length,
    dLength: d.length,
    dHighBitClear: (d[0]! & 0x80) === 0,
    comment,
    padding,
    fullLinesAre70: lineLengths.slice(0, -1).every((n) => n === 70),
    armor: [file.split("\n")[0], file.trimEnd().split("\n").at(-1), file.endsWith("\n")],
  };
}

describe("generateAuthKeys", () => {
  const keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 3 });

  it("writes client_credentials_N (mode 0600) and .pub for N = 1..count", () => {
    expect(keys.map((k) => k.privateKeyPath)).toEqual(
      [1, 2, 3].map((n) => join(dir, "keys", `client_credentials_${n}`)),
    );
    for (const k of keys) {
      expect(statSync(k.privateKeyPath).mode & 0o777).toBe(0o600);
      expect(readFileSync(k.privateKeyPath, "utf8")).toBe(k.privateKeyOpenSsh);
      expect(readFileSync(k.publicKeyPath, "utf8")).toBe(k.publicKeyOpenSsh);
      expect(k.publicKeyOpenSsh).toMatch(/^ecdsa-sha2-nistp384 AAAA[A-Za-z0-9+/]+=* \n$/);
    }
    expect(new Set(keys.map((k) => k.publicKeyPem)).size).toBe(3);
  });

  it("`ssh-keygen -y -f client_credentials_N` reproduces the .pub", () => {
    for (const k of keys) {
      const derived = run("ssh-keygen", ["-y", "-f", k.privateKeyPath]);
      expect(`${derived.trimEnd()} \n`).toBe(k.publicKeyOpenSsh);
      expect(run("ssh-keygen", ["-l", "-f", k.privateKeyPath])).toMatch(
        /^384 SHA256:\S+ .* \(ECDSA\)/,
      );
    }
  });

  it("lays the private key out like `ssh-keygen -t ecdsa -b 384 -N '' -C ''`", () => {
    sshKeygen(join(dir, "reference"), "ecdsa", 384);
    const reference = dissect(readFileSync(join(dir, "reference"), "utf8"));
    const ours = dissect(keys[0]!.privateKeyOpenSsh);
    // d is 48 or 49 bytes (mpint) depending on its top bit; compare everything else
    const {
      dLength: refD,
      dHighBitClear: refClear,
      privLength: refPriv,
      padding: refPad,
      ...refRest
    } = reference;
    const { dLength, dHighBitClear, privLength, padding, ...rest } = ours;
    expect(rest).toEqual(refRest);
    expect(rest).toMatchObject({
      magic: "openssh-key-v1\0",
      cipher: "none",
      kdf: "none",
      nkeys: 1,
      checksEqual: true,
      keyType: "ecdsa-sha2-nistp384",
      curve: "nistp384",
      pointLength: 97,
      comment: "",
      tail: 0,
    });
    for (const [len, clear, priv, pad] of [
      [dLength, dHighBitClear, privLength, padding],
      [refD, refClear, refPriv, refPad],
    ] as const) {
      expect(len === 48 || (len === 49 && clear)).toBe(true);
      expect(priv % 8).toBe(0);
      expect(pad).toEqual(pad.map((_, i) => i + 1));
    }
    // the .pub line has the same shape as ssh-keygen's (type, base64, empty comment after a space)
    const refPub = readFileSync(join(dir, "reference.pub"), "utf8");
    expect(refPub).toMatch(/^ecdsa-sha2-nistp384 AAAA[A-Za-z0-9+/]+=* \n$/);
    expect(refPub.length).toBe(keys[0]!.publicKeyOpenSsh.length);
  });

  it("encodes d with a leading zero exactly when its top bit is set", () => {
    for (let i = 0; i < 40; i++) {
      const { privateKey } = generateEcKeyPair("P-384");
      const d = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
      const info = dissect(formatOpenSshPrivateKey(privateKey));
      const stripped = d.subarray(d.findIndex((b) => b !== 0));
      expect(info.dLength).toBe(stripped.length + (stripped[0]! & 0x80 ? 1 : 0));
    }
  });

  it("refuses to overwrite, validates options", () => {
    const err = thrown<CryptoError>(() =>
      generateAuthKeys({ outDir: join(dir, "keys"), count: 1 }),
    );
    expect(err.code).toBe("file-exists");
    expect(err.message).toContain("client_credentials_1");
    expect(thrown<CryptoError>(() => generateAuthKeys({ outDir: dir, count: 0 })).message).toMatch(
      /count must be an integer from 1 to 10000/,
    );
    expect(
      thrown<CryptoError>(() => generateAuthKeys({ outDir: dir, prefix: "../x" })).message,
    ).toMatch(/prefix must be a plain file name/);
    const again = generateAuthKeys({ outDir: join(dir, "keys"), count: 1, overwrite: true });
    expect(readFileSync(again[0]!.privateKeyPath, "utf8")).toBe(again[0]!.privateKeyOpenSsh);
  });
});

describe.each([
  [256, "P-256"],
  [384, "P-384"],
  [521, "P-521"],
] as const)("keys made by ssh-keygen -t ecdsa -b %i", (bits, curve) => {
  const path = join(dir, `ssh-${bits}`);
  sshKeygen(path, "ecdsa", bits);

  it("load as private and public keys with the same SPKI PEM as OpenSSL derives", () => {
    const priv = loadPrivateKey(path);
    const pub = loadPublicKey(`${path}.pub`);
    expect(priv.asymmetricKeyDetails?.namedCurve).toBe(
      { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" }[curve],
    );
    // ssh-keygen can export the public key as PKCS8/SPKI PEM: compare with ours
    const spki = run("ssh-keygen", ["-e", "-m", "PKCS8", "-f", `${path}.pub`]);
    expect(publicKeyToPem(priv)).toBe(spki);
    expect(publicKeyToPem(pub)).toBe(spki);
  });

  it("round-trip through our OpenSSH writer byte for byte (except the random check integers)", () => {
    const priv = loadPrivateKey(path);
    expect(formatOpenSshPublicKey(priv)).toBe(readFileSync(`${path}.pub`, "utf8"));
    const original = dissect(readFileSync(path, "utf8"));
    const rewritten = dissect(formatOpenSshPrivateKey(priv));
    expect(rewritten).toEqual(original);
  });
});

describe("PEM private keys (PKCS#8, SEC1)", () => {
  it.each(["pkcs8", "sec1"])("loads an OpenSSL P-384 key in %s form", (form) => {
    const path = join(dir, `openssl-${form}.pem`);
    run("openssl", [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-384",
      "-out",
      path,
    ]);
    if (form === "sec1") run("openssl", ["ec", "-in", path, "-out", path]);
    const text = readFileSync(path, "utf8");
    expect(text).toContain(form === "sec1" ? "BEGIN EC PRIVATE KEY" : "BEGIN PRIVATE KEY");
    const key = loadPrivateKey(path);
    expect(publicKeyToPem(key)).toBe(run("openssl", ["pkey", "-in", path, "-pubout"]));
  });
});

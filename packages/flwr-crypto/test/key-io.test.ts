import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CryptoError,
  type CryptoErrorCode,
  generateAuthKeys,
  loadPrivateKey,
  loadPublicKey,
  parsePrivateKey,
  parsePublicKey,
  publicKeyToPem,
} from "../src/index.js";
import { run, sshKeygen, tempDir, thrown } from "./helpers.js";

const dir = tempDir();
const [good] = generateAuthKeys({ outDir: dir, count: 1 });
const goodText = readFileSync(good!.privateKeyPath, "utf8");

function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function expectError(f: () => unknown, code: CryptoErrorCode, re: RegExp): void {
  const err = thrown<CryptoError>(f);
  expect(err).toBeInstanceOf(CryptoError);
  expect(err.code).toBe(code);
  expect(err.message).toMatch(re);
  expect(err.message).not.toMatch(/\n/);
}

/** Re-armors an OpenSSH body after editing it. */
function rearmor(body: Buffer): string {
  const b64 = body.toString("base64").replace(/(.{70})/g, "$1\n");
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
const goodBody = Buffer.from(
  goodText
    .split("\n")
    .filter((l) => l && !l.startsWith("-----"))
    .join(""),
  "base64",
);

describe("SuperNode private key errors (one line each)", () => {
  it("RSA key from ssh-keygen", () => {
    const path = join(dir, "rsa");
    sshKeygen(path, "rsa", 2048);
    expectError(
      () => loadPrivateKey(path),
      "unsupported-key",
      /rsa is an RSA key \(ssh-rsa\); SuperNode keys must be ECDSA on NIST P-384/,
    );
  });

  it("Ed25519 key from ssh-keygen", () => {
    const path = join(dir, "ed25519");
    sshKeygen(path, "ed25519");
    expectError(
      () => loadPrivateKey(path),
      "unsupported-key",
      /ed25519 is an Ed25519 key \(ssh-ed25519\);.*ssh-keygen -t ecdsa -b 384/,
    );
    expectError(() => loadPublicKey(`${path}.pub`), "unsupported-key", /is an Ed25519 key/);
  });

  it("RSA and Ed25519 PEM keys", () => {
    const rsa = join(dir, "rsa.pem");
    run("openssl", [
      "genpkey",
      "-algorithm",
      "RSA",
      "-pkeyopt",
      "rsa_keygen_bits:2048",
      "-out",
      rsa,
    ]);
    expectError(
      () => loadPrivateKey(rsa),
      "unsupported-key",
      /rsa\.pem is an RSA key; SuperNode keys must be ECDSA/,
    );
    const ed = join(dir, "ed.pem");
    run("openssl", ["genpkey", "-algorithm", "ED25519", "-out", ed]);
    expectError(() => loadPrivateKey(ed), "unsupported-key", /ed\.pem is an Ed25519 key/);
    const edPub = run("openssl", ["pkey", "-in", ed, "-pubout"]);
    expectError(() => parsePublicKey(edPub), "unsupported-key", /the key is an Ed25519 key/);
  });

  it("EC key on a curve without an OpenSSH key type (P-224) or a non-NIST curve", () => {
    const p224 = join(dir, "p224.pem");
    run("openssl", [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-224",
      "-out",
      p224,
    ]);
    expectError(
      () => loadPrivateKey(p224),
      "unsupported-key",
      /is an EC key on P-224; SuperNode keys must be/,
    );
    const k1 = join(dir, "k1.pem");
    run("openssl", [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:secp256k1",
      "-out",
      k1,
    ]);
    expectError(() => loadPrivateKey(k1), "unsupported-key", /is an EC key on secp256k1/);
    expectError(
      () => parsePublicKey(run("openssl", ["pkey", "-in", k1, "-pubout"])),
      "unsupported-key",
      /EC key on secp256k1/,
    );
    // P-224 is a NIST curve: Flower's uses_nist_ec_curve accepts it as a public key
    expect(parsePublicKey(run("openssl", ["pkey", "-in", p224, "-pubout"])).asymmetricKeyType).toBe(
      "ec",
    );
  });

  it("encrypted OpenSSH, PKCS#8 and SEC1 keys", () => {
    const path = join(dir, "encrypted");
    sshKeygen(path, "ecdsa", 384, "secret passphrase");
    expectError(
      () => loadPrivateKey(path),
      "encrypted-key",
      new RegExp(
        `^${path} is encrypted; flwr-ts needs an unencrypted key \\(ssh-keygen -p -N '' -f ${path}\\)$`,
      ),
    );
    const plain = join(dir, "plain.pem");
    run("openssl", [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-384",
      "-out",
      plain,
    ]);
    const p8 = join(dir, "enc-pkcs8.pem");
    run("openssl", ["pkcs8", "-topk8", "-in", plain, "-out", p8, "-passout", "pass:secret"]);
    expect(readFileSync(p8, "utf8")).toContain("BEGIN ENCRYPTED PRIVATE KEY");
    expectError(() => loadPrivateKey(p8), "encrypted-key", /enc-pkcs8\.pem is encrypted/);
    const sec1 = join(dir, "enc-sec1.pem");
    run("openssl", ["ec", "-in", plain, "-out", sec1, "-aes256", "-passout", "pass:secret"]);
    expect(readFileSync(sec1, "utf8")).toContain("Proc-Type: 4,ENCRYPTED");
    expectError(() => loadPrivateKey(sec1), "encrypted-key", /enc-sec1\.pem is encrypted/);
  });

  it("truncated files", () => {
    const half = write("half", goodText.slice(0, goodText.length / 2));
    expectError(
      () => loadPrivateKey(half),
      "malformed-key",
      /half: truncated OPENSSH PRIVATE KEY \(no "-----END/,
    );
    const short = write("short-body", rearmor(goodBody.subarray(0, goodBody.length - 40)));
    expectError(
      () => loadPrivateKey(short),
      "malformed-key",
      /short-body: truncated or corrupt OpenSSH private key/,
    );
    const lines = goodText.trimEnd().split("\n");
    const missingLine = write("missing-line", [...lines.slice(0, 3), ...lines.slice(4)].join("\n"));
    expectError(() => loadPrivateKey(missingLine), "malformed-key", /missing-line: /);
    const pem = run("openssl", [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-384",
    ]);
    const pemLines = pem.trimEnd().split("\n");
    const cut = write("cut.pem", [...pemLines.slice(0, 2), pemLines.at(-1)].join("\n"));
    expectError(
      () => loadPrivateKey(cut),
      "malformed-key",
      /cut\.pem: the PRIVATE KEY PEM block could not be parsed/,
    );
  });

  it("corrupt OpenSSH keys: check integers, padding, mismatched halves", () => {
    // flip a bit in the second check integer: it sits right after the private-section length
    const body = Buffer.from(goodBody);
    const pubLenAt = 15 + 8 + 8 + 4 + 4; // magic, "none", "none", "", nkeys
    const pubLen = body.readUInt32BE(pubLenAt);
    const privAt = pubLenAt + 4 + pubLen + 4;
    const checks = Buffer.from(body);
    checks[privAt + 4]! ^= 1;
    expectError(() => parsePrivateKey(rearmor(checks)), "malformed-key", /check integers differ/);
    const pad = Buffer.from(body);
    pad[pad.length - 1]! ^= 0x40;
    expectError(
      () => parsePrivateKey(rearmor(pad)),
      "malformed-key",
      /bad padding|private section|truncated or corrupt/,
    );
    // swap in another key's public point: halves no longer match
    const [other] = generateAuthKeys({ outDir: join(dir, "other"), count: 1 });
    const otherBody = Buffer.from(
      other!.privateKeyOpenSsh
        .split("\n")
        .filter((l) => l && !l.startsWith("-----"))
        .join(""),
      "base64",
    );
    const mixed = Buffer.from(body);
    const pointAt = privAt + 8 + 4 + 19 + 4 + 8 + 4;
    otherBody.copy(mixed, pointAt, pointAt, pointAt + 97);
    expectError(() => parsePrivateKey(rearmor(mixed)), "malformed-key", /do not belong together/);
  });

  it("missing file, directory, empty file", () => {
    expectError(
      () => loadPrivateKey(join(dir, "nope")),
      "file-not-found",
      /cannot read key file .*nope: no such file/,
    );
    expectError(() => loadPrivateKey(dir), "file-not-found", /is a directory/);
    expectError(() => loadPrivateKey(write("empty", "")), "malformed-key", /empty is empty/);
  });

  it("garbage and wrong kinds of PEM", () => {
    expectError(
      () => loadPrivateKey(write("garbage", "hello world\n")),
      "malformed-key",
      /garbage is not a private key: expected an OpenSSH/,
    );
    expectError(
      () =>
        loadPrivateKey(
          write(
            "garbage.pem",
            "-----BEGIN PRIVATE KEY-----\nnot base64!!\n-----END PRIVATE KEY-----\n",
          ),
        ),
      "malformed-key",
      /garbage\.pem: the PRIVATE KEY block is not valid base64/,
    );
    expectError(
      () =>
        loadPrivateKey(
          write("junk.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        ),
      "malformed-key",
      /could not be parsed/,
    );
    expectError(
      () =>
        loadPrivateKey(
          write("cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        ),
      "malformed-key",
      /found "CERTIFICATE"/,
    );
    expectError(
      () => loadPrivateKey(good!.publicKeyPath),
      "malformed-key",
      /holds a public key; pass the private key file/,
    );
    expectError(
      () => loadPrivateKey(write("pub.pem", good!.publicKeyPem)),
      "malformed-key",
      /holds a public key/,
    );
    expectError(
      () => loadPublicKey(good!.privateKeyPath),
      "malformed-key",
      /holds a private key; pass the public key/,
    );
    expectError(
      () => loadPublicKey(write("pub-garbage", "ecdsa-sha2-nistp384\n")),
      "malformed-key",
      /not an OpenSSH public key line/,
    );
    // Words that parse as "type base64" but name no SSH key type.
    expectError(
      () => loadPublicKey(write("pub-words", "not a key at all\n")),
      "malformed-key",
      /not an OpenSSH public key line/,
    );
    expectError(
      () =>
        loadPublicKey(write("pub-short", "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQ=\n")),
      "malformed-key",
      /truncated or corrupt OpenSSH public key/,
    );
  });

  it("a point that is not on the curve", () => {
    const line = good!.publicKeyOpenSsh.split(" ");
    const blob = Buffer.from(line[1]!, "base64");
    blob[blob.length - 1]! ^= 1;
    expectError(
      () => parsePublicKey(`ecdsa-sha2-nistp384 ${blob.toString("base64")}\n`),
      "malformed-key",
      /the public point is not on P-384/,
    );
    const typeMismatch = `ecdsa-sha2-nistp256 ${line[1]}`;
    expectError(
      () => parsePublicKey(typeMismatch),
      "malformed-key",
      /says ecdsa-sha2-nistp256 but the key data is ecdsa-sha2-nistp384/,
    );
  });
});

describe("public keys", () => {
  it("reads the OpenSSH line and the SPKI PEM to the same key", () => {
    const fromLine = loadPublicKey(good!.publicKeyPath);
    const fromPem = parsePublicKey(good!.publicKeyPem);
    expect(publicKeyToPem(fromLine)).toBe(good!.publicKeyPem);
    expect(publicKeyToPem(fromPem)).toBe(good!.publicKeyPem);
    expect(publicKeyToPem(parsePrivateKey(goodText))).toBe(good!.publicKeyPem);
  });

  it("writes the uncompressed point even for a compressed-point SPKI input", () => {
    const compressed = run(
      "openssl",
      ["ec", "-pubin", "-conv_form", "compressed", "-pubout"],
      good!.publicKeyPem,
    );
    expect(compressed).not.toBe(good!.publicKeyPem);
    expect(publicKeyToPem(parsePublicKey(compressed))).toBe(good!.publicKeyPem);
  });
});

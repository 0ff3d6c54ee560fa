/**
 * Regression test of issue #12 finding 2b on a real SuperLink (TLS, 127.0.0.1): an anonymous
 * StartRun with a zip-bomb FAB is refused FAILED_PRECONDITION (as every unreadable FAB is, like
 * Flower's "Could not start run") naming the decompression limit, without inflating it
 * (inflation off the event loop is tested in `@flwr-ts/core`'s `zip-limits.test.ts`).
 */
import { deflateRawSync } from "node:zlib";
import { FAB_MAX_UNPACKED_BYTES } from "@flwr-ts/core";
import { StartRunRequest } from "@flwr-ts/core/proto";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSuperLink, type TestSuperLink } from "../../../test/superlink-test-kit.js";

let kit: TestSuperLink;
beforeAll(async () => {
  kit = await startTestSuperLink({ runs: true });
});
afterAll(() => kit.stop());

/** A one-entry zip whose entry inflates to `size` zero bytes. */
function zeroZip(name: string, size: number): Buffer {
  const packed = deflateRawSync(Buffer.alloc(size), { level: 9 });
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(packed.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(n.length, 26);
  const cd = Buffer.alloc(46);
  cd.writeUInt32LE(0x02014b50, 0);
  cd.writeUInt16LE(8, 10);
  cd.writeUInt32LE(packed.length, 20);
  cd.writeUInt32LE(size, 24);
  cd.writeUInt16LE(n.length, 28);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(46 + n.length, 12);
  eocd.writeUInt32LE(30 + n.length + packed.length, 16);
  return Buffer.concat([local, n, packed, cd, n, eocd]);
}

async function startRunError(content: Buffer): Promise<{ code: number; details: string }> {
  try {
    await kit.control().startRun(StartRunRequest.fromPartial({ fab: { content } }));
    return { code: status.OK, details: "" };
  } catch (error) {
    return error as { code: number; details: string };
  }
}

describe("StartRun with a zip bomb", () => {
  it("refuses a FAB that decompresses past the cap, naming the limit", async () => {
    const bomb = zeroZip("pyproject.toml", FAB_MAX_UNPACKED_BYTES * 2);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const { code, details } = await startRunError(bomb);
    expect(code).toBe(status.FAILED_PRECONDITION);
    expect(details).toMatch(/exceeds the limit of \d+ bytes/);
  });
});

/**
 * Regression tests of issue #12 finding 2b: a zip bomb FAB is refused from its central
 * directory, before anything is inflated, and inflation runs off the event loop.
 */
import { describe, expect, it } from "vitest";
import { deflatedZip } from "../../test/support/deflate-zip.js";
import { FabError } from "./errors.js";
import { readFab, readFabAsync } from "./read.js";
import { FAB_MAX_ENTRY_BYTES, FAB_MAX_UNPACKED_BYTES, readZip, readZipAsync } from "./zip.js";

const zeros = (n: number) => new Uint8Array(n);
/** Byte equality without vitest's element-wise diff (slow on megabytes). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("FAB decompression limits", () => {
  it("refuses an entry larger than the per-entry cap (sync and async)", async () => {
    const bomb = deflatedZip([{ name: "pyproject.toml", data: zeros(FAB_MAX_ENTRY_BYTES + 1) }]);
    expect(bomb.length).toBeLessThan(100_000);
    expect(() => readZip(bomb)).toThrow(/pyproject.toml.*exceeds/);
    await expect(readZipAsync(bomb)).rejects.toThrow(/pyproject.toml.*exceeds/);
    expect(() => readFab(bomb)).toThrow(FabError);
    await expect(readFabAsync(bomb)).rejects.toMatchObject({ code: "too-large" });
  });

  it("refuses entries whose sizes add up past the total cap", async () => {
    const each = Math.floor(FAB_MAX_ENTRY_BYTES / 2);
    const count = Math.ceil(FAB_MAX_UNPACKED_BYTES / each) + 1;
    const bomb = deflatedZip(
      Array.from({ length: count }, (_, i) => ({ name: `f${i}.bin`, data: zeros(each) })),
    );
    expect(() => readZip(bomb)).toThrow(/decompressed size.*exceeds/);
    await expect(readZipAsync(bomb)).rejects.toThrow(/decompressed size.*exceeds/);
  });

  it("reads DEFLATE entries within the caps, the async reader without blocking the loop", async () => {
    const data = zeros(8 * 1024 * 1024);
    data[12345] = 7;
    const zip = deflatedZip([{ name: "weights.bin", data }]);
    expect(same(readZip(zip)[0]!.data, data)).toBe(true);
    let ticked = false;
    setImmediate(() => {
      ticked = true;
    });
    const reading = readZipAsync(zip).then((entries) => ({ entries, ticked }));
    const { entries, ticked: tickedBefore } = await reading;
    expect(same(entries[0]!.data, data)).toBe(true);
    // The inflation ran on libuv's thread pool: the event loop turned while it did.
    expect(tickedBefore).toBe(true);
  });
});

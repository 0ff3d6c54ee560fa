/** `.npy` reading/writing and NdArray conversions, checked against numpy where it matters. */
import { describe, expect, it } from "vitest";
import { pythonFlwrAvailable, runPython } from "../../../interop/python.js";
import {
  ArrayShapeError,
  DTYPES,
  dtypeInfo,
  encodeNpyHeader,
  NdArray,
  NpyFormatError,
  parseNpyHeader,
  RecordValueError,
  UnsupportedDtypeError,
} from "../src/index.js";

const latin1 = (b: Uint8Array) => Buffer.from(b).toString("latin1");

describe(".npy header", () => {
  it("matches numpy's layout for 0-d, 1-d and n-d shapes", () => {
    const h0 = latin1(encodeNpyHeader("float32", []));
    expect(h0.length).toBe(128); // numpy writes 132 bytes for a 0-d float32
    expect(h0).toBe(
      `\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (), }${" ".repeat(62)}\n`,
    );
    const h1 = latin1(encodeNpyHeader("float32", [2]));
    expect(h1.length).toBe(128);
    expect(
      h1.startsWith(
        "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
      ),
    ).toBe(true);
    expect(h1.endsWith(" \n")).toBe(true);
    expect(latin1(encodeNpyHeader("bool", [2, 3]))).toContain(
      "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 3), }",
    );
    expect(latin1(encodeNpyHeader("uint8", [1]))).toContain("'|u1'");
    expect(latin1(encodeNpyHeader("int8", [1]))).toContain("'|i1'");
    expect(latin1(encodeNpyHeader("float16", [1]))).toContain("'<f2'");
    for (const d of DTYPES) expect(encodeNpyHeader(d, [3, 4]).length % 64).toBe(0);
  });

  it("round-trips every dtype through fromTypedArray / toTypedArray, including 0-d and empty", () => {
    for (const dtype of DTYPES) {
      const info = dtypeInfo(dtype);
      for (const shape of [[], [0], [2, 3], [3, 0, 2]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const typed = new info.ctor(n);
        for (let i = 0; i < n; i++) {
          (typed as unknown as Record<number, unknown>)[i] =
            typed instanceof BigInt64Array || typed instanceof BigUint64Array
              ? BigInt(i)
              : dtype === "bool"
                ? i % 2
                : i;
        }
        const a = NdArray.fromTypedArray(typed as never, shape, dtype);
        expect(a.dtype).toBe(dtype);
        expect(a.shape).toEqual(shape);
        expect(a.stype).toBe("numpy.ndarray");
        const back = a.toTypedArray(dtype);
        expect(back).toEqual(typed);
        // Zero-copy: the view shares the buffer of data.
        expect(back.buffer).toBe(a.data.buffer);
        expect(NdArray.fromNpy(a.data).equals(a)).toBe(true);
      }
    }
  });

  it("decodes float16 and converts to float32", () => {
    const a = NdArray.fromTypedArray(
      new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001]),
      [4],
      "float16",
    );
    expect([...a.toFloat32Array()]).toEqual([1, -2, Infinity, 2 ** -24]);
    expect([...NdArray.fromTypedArray(new BigInt64Array([-3n])).toFloat32Array()]).toEqual([-3]);
  });

  it("copies when the data is not aligned", () => {
    const a = NdArray.fromTypedArray(new Float64Array([1.5, 2.5]));
    const shifted = new Uint8Array(a.data.length + 1).subarray(1);
    shifted.set(a.data);
    const b = NdArray.fromNpy(shifted);
    expect(b.toTypedArray("float64")).toEqual(new Float64Array([1.5, 2.5]));
  });
});

describe(".npy validation errors", () => {
  const good = NdArray.fromTypedArray(new Float32Array([1, 2, 3])).data;

  it("truncated payloads", () => {
    expect(() => NdArray.fromNpy(good.subarray(0, 5))).toThrow(NpyFormatError);
    expect(() => NdArray.fromNpy(good.subarray(0, 60))).toThrow(/header needs 128 bytes/);
    const e = (() => {
      try {
        NdArray.fromNpy(good.subarray(0, good.length - 1));
      } catch (err) {
        return err as NpyFormatError;
      }
    })();
    expect(e).toBeInstanceOf(NpyFormatError);
    expect(e!.kind).toBe("truncated");
    expect(e!.message).toMatch(/needs 12 data bytes but only 11 are present/);
  });

  it("extra data, bad magic, bad version, bad header", () => {
    const extra = new Uint8Array(good.length + 4);
    extra.set(good);
    expect(() => NdArray.fromNpy(extra)).toThrow(/needs 12 data bytes but 16 are present/);
    const magic = good.slice();
    magic[1] = 0x41;
    expect(() => NdArray.fromNpy(magic)).toThrow(/magic/);
    const version = good.slice();
    version[6] = 9;
    expect(() => NdArray.fromNpy(version)).toThrow(/version 9.0/);
    const header = good.slice();
    header.set(new TextEncoder().encode("{'descr': '<f4', 'fortran_order': Maybe"), 10);
    expect(() => NdArray.fromNpy(header)).toThrow(/bad-header|unexpected value|invalid .npy/);
  });

  it("unknown dtypes", () => {
    for (const descr of ["<c8", "<U3", "|S4", "<M8[ns]", "|V8", "<f16", "O"]) {
      const npy = npyWithHeader(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`);
      expect(() => parseNpyHeader(npy), descr).toThrow(UnsupportedDtypeError);
    }
    expect(() =>
      parseNpyHeader(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }")),
    ).not.toThrow();
    expect(() =>
      parseNpyHeader(
        npyWithHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"),
      ),
    ).toThrow(UnsupportedDtypeError);
  });

  it("fromTypedArray checks", () => {
    expect(() => NdArray.fromTypedArray(new Float32Array(3), [2, 2])).toThrow(ArrayShapeError);
    expect(() => NdArray.fromTypedArray(new Uint8Array([0, 2]), [2], "bool")).toThrow(
      /element 1 is 2/,
    );
    expect(() => NdArray.fromTypedArray(new Float32Array(2) as never, [2], "float64")).toThrow(
      RecordValueError,
    );
    expect(() => NdArray.fromTypedArray(new Float32Array(2), [-2])).toThrow(ArrayShapeError);
    expect(() => NdArray.fromTypedArray(new Float32Array(2), [1.5])).toThrow(ArrayShapeError);
  });

  it("toTypedArray checks fields against the data", () => {
    const a = NdArray.fromTypedArray(new Float32Array([1, 2]));
    expect(() => a.toTypedArray("int32")).toThrow(/expected a int32 array/);
    const lying = new NdArray({
      dtype: "float64",
      shape: [2],
      stype: "numpy.ndarray",
      data: a.data,
    });
    expect(() => lying.toTypedArray()).toThrow(/holds float32/);
    const other = new NdArray({
      dtype: "float32",
      shape: [2],
      stype: "torch.tensor",
      data: a.data,
    });
    expect(() => other.toTypedArray()).toThrow(/stype/);
  });
});

function npyWithHeader(dict: string): Uint8Array {
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, (total - 10) & 0xff, (total - 10) >> 8]);
  out.set(new TextEncoder().encode(dict.padEnd(total - 11, " ") + "\n"), 10);
  return out;
}

describe.skipIf(!pythonFlwrAvailable)(".npy from numpy", () => {
  it("reads Fortran-ordered and big-endian arrays as numpy does", () => {
    const out = runPython(`
import io, json, base64, numpy as np
a = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
res = {}
for name, arr in {"fortran": np.asfortranarray(a), "transposed": a.T, "big": a.astype('>i4'), "bigf": a.astype('>f8')}.items():
    b = io.BytesIO(); np.save(b, arr, allow_pickle=False)
    res[name] = [base64.b64encode(b.getvalue()).decode(), [int(x) for x in np.ascontiguousarray(arr).ravel()], list(arr.shape), str(arr.dtype)]
print(json.dumps(res))
`);
    const res = JSON.parse(out) as Record<string, [string, number[], number[], string]>;
    for (const [name, [b64, values, shape, dtype]] of Object.entries(res)) {
      const a = NdArray.fromNpy(new Uint8Array(Buffer.from(b64, "base64")));
      expect(a.shape, name).toEqual(shape);
      expect(a.dtype, name).toBe(dtype);
      expect(Array.from(a.toTypedArray() as ArrayLike<number>), name).toEqual(values);
    }
  });
});

describe("NdArray.toTypedArray on Node Buffers", () => {
  it("copies unaligned data held in a pooled Buffer (whose slice is a view)", () => {
    const values = Float32Array.from({ length: 450 }, (_, i) => i * 0.5 - 7);
    const npy = NdArray.fromTypedArray(values, [6, 3, 5, 5]).data;
    // Place the .npy at an odd offset inside a larger Buffer, as a decoded protobuf field is.
    const pool = Buffer.alloc(npy.length + 101, 0xff);
    pool.set(npy, 17);
    const data = pool.subarray(17, 17 + npy.length);
    const array = new NdArray({
      dtype: "float32",
      shape: [6, 3, 5, 5],
      stype: "numpy.ndarray",
      data,
    });
    expect(Array.from(array.toTypedArray("float32"))).toEqual(Array.from(values));
  });
});

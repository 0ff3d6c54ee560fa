/**
 * A minimal reader of little-endian float32 `.npy` files (NumPy format 1.0–3.0),
 * enough for the PyTorch fixture.
 */
import { readFileSync } from "node:fs";

/** Reads a C-order `<f4` array. */
export function readNpyF32(path: string): { shape: number[]; data: Float32Array } {
  const bytes = readFileSync(path);
  if (bytes.toString("latin1", 0, 6) !== "\x93NUMPY") throw new Error(`${path} is not a .npy file`);
  const major = bytes[6]!;
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString("latin1", start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`${path}: only <f4 supported (${header})`);
  if (/'fortran_order':\s*True/.test(header))
    throw new Error(`${path}: Fortran order not supported`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "";
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const offset = start + headerLen;
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 4);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  return { shape, data };
}

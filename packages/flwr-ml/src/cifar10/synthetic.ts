/**
 * A CIFAR-shaped, learnable stand-in for offline machines and tests: each
 * class is a fixed random colour pattern (oriented stripes on a tinted
 * background) and every image is its class pattern, randomly shifted, plus
 * noise. Marked `synthetic` everywhere it goes.
 */
import { type ImageDataset, seededRandom } from "../dataset.js";

/** Options of {@link syntheticCifar10}. */
export interface SyntheticOptions {
  /** Number of images. */
  count: number;
  /** Seed (default 42). */
  seed?: number;
}

/** Generates a synthetic CIFAR-10-shaped dataset (uint8 NHWC, 10 classes). */
export function syntheticCifar10(options: SyntheticOptions): ImageDataset {
  const { count } = options;
  const random = seededRandom(options.seed ?? 42);
  // Class patterns are fixed (independent of the seed): sets generated with
  // different seeds are samples of the same task.
  const patternRandom = seededRandom(0x5eed);
  const classes = Array.from({ length: 10 }, () => ({
    angle: patternRandom() * Math.PI,
    frequency: 0.25 + patternRandom() * 0.5,
    tint: [patternRandom(), patternRandom(), patternRandom()].map((v) => 60 + v * 120),
    amplitude: [patternRandom(), patternRandom(), patternRandom()].map((v) => 30 + v * 50),
  }));
  const pixels = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const k = Math.floor(random() * 10);
    labels[i] = k;
    const cls = classes[k]!;
    const dx = Math.cos(cls.angle) * cls.frequency;
    const dy = Math.sin(cls.angle) * cls.frequency;
    const phase = random() * Math.PI * 2;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        const wave = Math.sin(x * dx + y * dy + phase);
        for (let c = 0; c < 3; c++) {
          const v =
            (cls.tint[c] as number) + (cls.amplitude[c] as number) * wave + (random() - 0.5) * 90;
          pixels[i * 3072 + (y * 32 + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
  }
  return { count, shape: [32, 32, 3], pixels, labels, numClasses: 10, synthetic: true };
}

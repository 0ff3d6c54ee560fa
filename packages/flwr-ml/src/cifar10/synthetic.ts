/**
 * A CIFAR-shaped, learnable stand-in for offline machines and tests, marked `synthetic`
 * everywhere it goes. Each class is a fixed random pattern (oriented stripes of a class
 * frequency on a class tint); every image is its class pattern with its own jitter —
 * orientation ±{@link ORIENTATION_JITTER}/2 rad, frequency ±{@link FREQUENCY_JITTER}/2
 * relative, brightness ±{@link BRIGHTNESS_JITTER}, contrast down to
 * 1 − {@link CONTRAST_JITTER}, a random phase — plus uniform pixel noise of width
 * {@link PIXEL_NOISE}, and a {@link LABEL_NOISE} fraction of labels resampled uniformly.
 *
 * The difficulty is tuned so that the demo's task is neither trivial nor a coin toss: with
 * the seed's Net, SGD momentum 0.9 at learning rate 0.01, batch 32, one local epoch and
 * FedAvg over two IID partitions of 10,000 images, flwr-ml and PyTorch alike reach about
 * 0.96 accuracy in 3 rounds, rising every round (`bench/demo-convergence.ts` measures both
 * on the same partitions). The label noise caps what any model can reach at about
 * 1 − 0.9 · {@link LABEL_NOISE} ≈ 0.955 on the test split.
 */
import { type ImageDataset, seededRandom } from "../dataset.js";

/** Options of {@link syntheticCifar10}. */
export interface SyntheticOptions {
  /** Number of images. */
  count: number;
  /** Seed (default 42). */
  seed?: number;
}

/** Width (rad) of the per-image orientation jitter. */
export const ORIENTATION_JITTER = 0.15;
/** Relative width of the per-image stripe-frequency jitter. */
export const FREQUENCY_JITTER = 0.15;
/** Per-image brightness offset range (± in byte units). */
export const BRIGHTNESS_JITTER = 20;
/** Largest per-image reduction of the stripes' contrast (fraction). */
export const CONTRAST_JITTER = 0.3;
/** Width of the uniform per-pixel noise (byte units). */
export const PIXEL_NOISE = 120;
/** Fraction of labels resampled uniformly over the 10 classes. */
export const LABEL_NOISE = 0.05;

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
    labels[i] = random() < LABEL_NOISE ? Math.floor(random() * 10) : k;
    const cls = classes[k]!;
    const angle = cls.angle + (random() - 0.5) * ORIENTATION_JITTER;
    const frequency = cls.frequency * (1 + (random() - 0.5) * FREQUENCY_JITTER);
    const dx = Math.cos(angle) * frequency;
    const dy = Math.sin(angle) * frequency;
    const phase = random() * Math.PI * 2;
    const brightness = (random() - 0.5) * 2 * BRIGHTNESS_JITTER;
    const contrast = 1 - random() * CONTRAST_JITTER;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        const wave = Math.sin(x * dx + y * dy + phase) * contrast;
        for (let c = 0; c < 3; c++) {
          const v =
            (cls.tint[c] as number) +
            brightness +
            (cls.amplitude[c] as number) * wave +
            (random() - 0.5) * PIXEL_NOISE;
          pixels[i * 3072 + (y * 32 + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
  }
  return { count, shape: [32, 32, 3], pixels, labels, numClasses: 10, synthetic: true };
}

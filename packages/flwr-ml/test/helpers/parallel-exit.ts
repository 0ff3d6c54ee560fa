/**
 * Run as a child process by data-parallel.test.ts: trains and evaluates with
 * two worker threads, then simply returns. The process must exit on its own
 * (idle workers must not keep it alive).
 */
import { createNet, initBackend, syntheticCifar10, test, trainAsync } from "../../src/index.js";

await initBackend({ log: null });
const data = syntheticCifar10({ count: 64, seed: 1 });
const net = createNet({ seed: 1 });
const loss = await trainAsync(net, data, {
  epochs: 1,
  learningRate: 0.05,
  batchSize: 16,
  seed: 1,
  workers: 2,
  progressBar: false,
});
const r = test(net, data, { batchSize: 16, workers: 2, progressBar: false });
process.stdout.write(`${JSON.stringify({ loss, accuracy: r.accuracy })}\n`);
net.dispose();

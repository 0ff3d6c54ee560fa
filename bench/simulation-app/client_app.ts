/**
 * The bench's ClientApp (same logic as bench/python/sim_bench.py): a linear model of 10,000
 * float32 weights, one epoch of SGD over 32 samples generated from the partition id.
 */
import {
  ArrayRecord,
  ClientApp,
  type Context,
  Message,
  MetricRecord,
  RecordDict,
} from "@flwr-ts/core";

export const app = new ClientApp();

app.train()(async (msg: Message, context: Context) => {
  const w = Float32Array.from(
    msg.content.arrayRecords.get("arrays")!.get("w")!.toTypedArray("float32"),
  );
  const pid = Number(context.nodeConfig["partition-id"]);
  let seed = pid + 1;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const x = new Float32Array(w.length);
  for (let s = 0; s < 32; s++) {
    for (let i = 0; i < x.length; i++) x[i] = rand();
    let pred = 0;
    for (let i = 0; i < x.length; i++) pred += w[i]! * x[i]!;
    const err = pred - (pid % 7);
    for (let i = 0; i < x.length; i++) w[i] = w[i]! - 1e-4 * err * x[i]!;
  }
  return new Message(
    new RecordDict({
      arrays: ArrayRecord.fromTypedArrays([["w", w]]),
      metrics: new MetricRecord({ "num-examples": 32n }),
    }),
    { replyTo: msg },
  );
});

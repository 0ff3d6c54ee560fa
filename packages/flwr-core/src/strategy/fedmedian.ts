/** `FedMedian`: coordinate-wise median of the replies (Python `flwr.serverapp.strategy.FedMedian`). */
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { FedAvg } from "./fedavg.js";
import { median, reduceCoordinates, stackByName, writeFloatArrays } from "./float-arrays.js";

/**
 * Federated median (Yin et al., 2018): each array element is the median of the replies'
 * values (unweighted); metrics are aggregated like FedAvg's. Options are FedAvg's.
 */
export class FedMedian extends FedAvg {
  /** Takes the coordinate-wise median of the successful train replies. */
  override async aggregateTrain(
    _serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const valid = this.checkAndLogReplies(replies, true);
    if (valid.length === 0) return [undefined, undefined];
    const contents = valid.map((m) => m.content);
    const key = contents[0]!.arrayRecords.keys().next().value!;
    const stacks = stackByName(contents.map((c) => c.arrayRecords.get(key)!));
    const arrays = writeFloatArrays(
      new Map([...stacks].map(([name, stack]) => [name, reduceCoordinates(stack, median)])),
    );
    return [arrays, this.trainMetricsAggrFn(contents, this.weightedByKey)];
  }
}

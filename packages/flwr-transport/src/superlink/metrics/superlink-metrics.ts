/**
 * The SuperLink's Prometheus metrics (flwr-ts; Flower has none), on prom-client's registry and
 * text format:
 * - `flwr_supernodes{status}`: SuperNodes by status (registered, online, offline), read from the
 *   state at each scrape;
 * - `flwr_runs{status}`: runs by status (`pending`, `running`, `finished:completed`, …), idem;
 * - `flwr_rpc_calls_total{service,method,protocol,code}` and
 *   `flwr_rpc_duration_seconds{service,method,protocol}`: every call of Fleet, Control,
 *   ServerAppIo and the HTTP Runtime API on both wires, including those a middleware refused
 *   (`code` is the gRPC status name; errors are the calls whose code is not `OK`). A long-polled
 *   PullMessages lasts as long as it waited;
 * - `flwr_message_exchange_seconds{message_type}`: from an instruction being stored to its reply
 *   (or its Node-Unavailable answer) being available, per message;
 * - `flwr_round_seconds{message_type}`: from the first instruction of a round (a run's
 *   `group_id` and message type: Flower's strategies put the round number in `group_id`) to the
 *   moment every instruction of it has an answer — a FedAvg round is one `train` and one
 *   `evaluate` observation;
 * - Node.js process metrics (resident memory, heap, CPU, event-loop lag: prom-client's defaults).
 *
 * The calls are counted by a {@link CallObserver} that the SuperLink adds to every service (one
 * place for both wires); the exchange and round latencies come from LinkState events. In-flight
 * bookkeeping is bounded ({@link MAX_TRACKED}) so that instructions that are never answered
 * cannot grow it.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { CallObserver } from "../../wire/call-context.js";
import { Code } from "../../wire/code.js";
import type { LinkState, LinkStateEvent } from "../state/link-state.js";

/** Most instructions and rounds tracked at once for the latency histograms (oldest dropped). */
export const MAX_TRACKED = 50_000;

const CODE_NAMES = new Map<number, string>(
  Object.entries(Code).map(([name, value]) => [value as number, name]),
);

const RPC_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const EXCHANGE_BUCKETS = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600,
];

interface TrackedIns {
  readonly start: number;
  readonly messageType: string;
  readonly round: string;
}

interface TrackedRound {
  readonly start: number;
  outstanding: number;
}

/** Splits `/flwr.proto.Fleet/PullMessages` into service and method. */
function splitMethod(path: string): { service: string; method: string } {
  const i = path.lastIndexOf("/");
  return { service: path.slice(1, i), method: path.slice(i + 1) };
}

/** A bounded insertion-ordered map: the oldest entry goes when it is full. */
function setBounded<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED) map.delete(map.keys().next().value as K);
}

/** The SuperLink's metrics: an observer for its services and a subscription to its state. */
export class SuperLinkMetrics {
  /** The registry `metricsText()` renders (own, not prom-client's global one). */
  readonly registry = new Registry();
  private readonly calls: Counter<"service" | "method" | "protocol" | "code">;
  private readonly durations: Histogram<"service" | "method" | "protocol">;
  private readonly exchange: Histogram<"message_type">;
  private readonly rounds: Histogram<"message_type">;
  private readonly pendingIns = new Map<string, TrackedIns>();
  private readonly pendingRounds = new Map<string, TrackedRound>();
  private readonly unsubscribe: () => void;

  /**
   * @param state - read at each scrape for the node and run gauges; its events feed the latency
   *   histograms.
   * @param now - clock in seconds (tests).
   */
  constructor(
    state: LinkState,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "flwr_supernodes",
      help: "SuperNodes by status.",
      labelNames: ["status"],
      registers,
      collect() {
        const counts = new Map<string, number>([
          ["registered", 0],
          ["online", 0],
          ["offline", 0],
        ]);
        for (const node of state.getNodeInfo())
          counts.set(node.status, (counts.get(node.status) ?? 0) + 1);
        this.reset();
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    new Gauge({
      name: "flwr_runs",
      help: "Runs by status (status:sub-status once finished).",
      labelNames: ["status"],
      registers,
      collect() {
        const counts = new Map<string, number>();
        for (const run of state.getRunInfo()) {
          const s = run.status;
          const key =
            s === undefined ? "unknown" : s.subStatus ? `${s.status}:${s.subStatus}` : s.status;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        this.reset();
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    this.calls = new Counter({
      name: "flwr_rpc_calls_total",
      help: "RPC calls by method, wire and status code (code != OK are errors).",
      labelNames: ["service", "method", "protocol", "code"],
      registers,
    });
    this.durations = new Histogram({
      name: "flwr_rpc_duration_seconds",
      help: "RPC handling time, from the call's arrival to its answer.",
      labelNames: ["service", "method", "protocol"],
      buckets: RPC_BUCKETS,
      registers,
    });
    this.exchange = new Histogram({
      name: "flwr_message_exchange_seconds",
      help: "From an instruction being stored to its reply (or Node-Unavailable answer).",
      labelNames: ["message_type"],
      buckets: EXCHANGE_BUCKETS,
      registers,
    });
    this.rounds = new Histogram({
      name: "flwr_round_seconds",
      help: "From a round's first instruction (run, group_id, message type) to its last answer.",
      labelNames: ["message_type"],
      buckets: EXCHANGE_BUCKETS,
      registers,
    });
    this.unsubscribe = state.subscribe((event) => this.onStateEvent(event));
  }

  /** Counts and times every call of a service; add it to the service's `observers`. */
  readonly observer: CallObserver = (ctx) => {
    const start = this.now();
    const { service, method } = splitMethod(ctx.method);
    return ({ code }) => {
      const labels = { service, method, protocol: ctx.protocol };
      this.calls.inc({ ...labels, code: CODE_NAMES.get(code) ?? String(code) });
      this.durations.observe(labels, this.now() - start);
    };
  };

  private onStateEvent(event: LinkStateEvent): void {
    if (event.type === "message-ins") {
      const round = `${event.runId}\u0000${event.groupId}\u0000${event.messageType}`;
      if (this.pendingIns.has(event.messageId)) return; // stored again: still one exchange
      const start = this.now();
      setBounded(this.pendingIns, event.messageId, {
        start,
        messageType: event.messageType,
        round,
      });
      const tracked = this.pendingRounds.get(round);
      if (tracked) tracked.outstanding += 1;
      else setBounded(this.pendingRounds, round, { start, outstanding: 1 });
    } else if (event.type === "message-res") {
      const ins = this.pendingIns.get(event.replyToMessageId);
      if (!ins) return;
      this.pendingIns.delete(event.replyToMessageId);
      const end = this.now();
      this.exchange.observe({ message_type: ins.messageType }, end - ins.start);
      const round = this.pendingRounds.get(ins.round);
      if (!round) return;
      round.outstanding -= 1;
      if (round.outstanding === 0) {
        this.pendingRounds.delete(ins.round);
        this.rounds.observe({ message_type: ins.messageType }, end - round.start);
      }
    }
  }

  /** Instructions and rounds waiting for answers (bounded by {@link MAX_TRACKED}; tests). */
  get tracked(): { instructions: number; rounds: number } {
    return { instructions: this.pendingIns.size, rounds: this.pendingRounds.size };
  }

  /** The metrics in Prometheus's text exposition format. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link metricsText}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops listening to the state. */
  close(): void {
    this.unsubscribe();
    this.registry.clear();
  }
}

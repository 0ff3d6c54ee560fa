/**
 * One worker thread of the simulation engine (see `worker-pool.ts`): loads the app's ClientApp
 * once, then runs it for whichever virtual SuperNode the pool hands it, one message at a time.
 * The thread holds no node state: each task brings the node's Context state (a serialized
 * `RecordDict`, or none for a node's first message) and returns it updated with the reply.
 *
 * Messages from the pool: a {@link WorkerTask}. To the pool: `{ ready: true }` once the ClientApp
 * is loaded, `{ loadError }` when it cannot be, and one {@link WorkerResult} per task.
 */
import { parentPort, workerData } from "node:worker_threads";
import {
  ClientApp,
  Context,
  formatExceptionReason,
  messageFromProto,
  messageToProto,
  objectIdOfInflatable,
  RecordDict,
  recordDictFromProto,
  recordDictToProto,
  type UserConfig,
} from "@flwr-ts/core";
import { Message as PbMessage, RecordDict as PbRecordDict } from "@flwr-ts/core/proto";
import { loadComponent, registerAppLoader } from "../app-runtime/app-loader.js";

/** What a worker is started with. */
export interface SimulationWorkerData {
  /** Directory of the app (its `package.json` names the ClientApp). */
  readonly appDir: string;
  /** The ClientApp's module, relative to `appDir`. */
  readonly module: string;
  /** The ClientApp's export name. */
  readonly exportName: string;
  /** Root under which installed apps resolve `@flwr-ts/*` to this installation (FAB installs). */
  readonly appsRoot: string;
  /** The run id every Context carries. */
  readonly runId: bigint;
  /** The fused run config every Context carries. */
  readonly runConfig: UserConfig;
  /** `num-partitions` of every node config (the number of virtual SuperNodes). */
  readonly numPartitions: number;
}

/** One message for one virtual SuperNode. */
export interface WorkerTask {
  /** Task id (the pool's). */
  readonly task: number;
  /** The virtual SuperNode's id. */
  readonly nodeId: bigint;
  /** Its `partition-id`. */
  readonly partitionId: number;
  /** Its Context state (`flwr.proto.RecordDict` bytes), undefined before its first message. */
  readonly state: Uint8Array | undefined;
  /** The instruction (`flwr.proto.Message` bytes). */
  readonly message: Uint8Array;
}

/** The outcome of a {@link WorkerTask}. */
export type WorkerResult =
  | {
      readonly task: number;
      readonly ok: true;
      /** The reply (`flwr.proto.Message` bytes, message id set). */
      readonly reply: Uint8Array;
      /** The node's Context state after the ClientApp ran. */
      readonly state: Uint8Array;
    }
  | {
      readonly task: number;
      readonly ok: false;
      /** Flower's exception reason (`<class 'X'>:<'msg'>`). */
      readonly reason: string;
    };

const data = workerData as SimulationWorkerData;
const port = parentPort;
if (port === null) throw new Error("simulation-worker must run in a worker thread");

async function load(): Promise<ClientApp> {
  registerAppLoader(data.appsRoot);
  const component = await loadComponent(data.appDir, data.module, data.exportName, "ClientApp");
  if (!(component instanceof ClientApp)) {
    throw new Error(
      `'${data.module}:${data.exportName}' is not a ClientApp (export \`new ClientApp()\` from @flwr-ts/core).`,
    );
  }
  return component;
}

async function run(app: ClientApp, t: WorkerTask): Promise<WorkerResult> {
  try {
    const message = messageFromProto(PbMessage.decode(t.message));
    const context = new Context({
      runId: data.runId,
      nodeId: t.nodeId,
      nodeConfig: {
        "partition-id": BigInt(t.partitionId),
        "num-partitions": BigInt(data.numPartitions),
      },
      runConfig: data.runConfig,
      state:
        t.state === undefined
          ? new RecordDict()
          : recordDictFromProto(PbRecordDict.decode(t.state)),
    });
    const reply = await app.handle(message, context);
    reply.metadata.messageId = "";
    reply.metadata.messageId = objectIdOfInflatable(reply);
    return {
      task: t.task,
      ok: true,
      reply: PbMessage.encode(messageToProto(reply)).finish(),
      state: PbRecordDict.encode(recordDictToProto(context.state)).finish(),
    };
  } catch (error) {
    return { task: t.task, ok: false, reason: formatExceptionReason(error) };
  }
}

load().then(
  (app) => {
    port.on("message", (t: WorkerTask) => {
      // Copied, not transferred: replies are small next to the ClientApp's own work.
      void run(app, t).then((result) => port.postMessage(result));
    });
    port.postMessage({ ready: true });
  },
  (error: unknown) => {
    port.postMessage({ loadError: error instanceof Error ? error.message : String(error) });
  },
);

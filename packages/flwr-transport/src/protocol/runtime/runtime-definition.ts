/**
 * Flower 1.42's Runtime API (`/flwr.proto.Runtime/<Method>`) as a generic service definition,
 * for `createHttpClient` (`POST /v1/runtime/<kebab-method>`). flwr 1.42's `runtime.proto`
 * declares no service — its methods exist only as the routes of
 * `flwr/supercore/protobuf/translation.py:185-208` and the calls of
 * `flwr/supercore/runtime/runtime_http_client.py` — so the definition is written here, with
 * ts-proto's shape and the generated message codecs (`@flwr-ts/core/proto/runtime`). Only the
 * methods a SuperExec, a ClientApp process and a ServerApp process call are listed; all are
 * unary.
 */
import {
  ConfirmMessageReceivedRequest,
  ConfirmMessageReceivedResponse,
  PullObjectRequest,
  PullObjectResponse,
  PushLogsRequest,
  PushLogsResponse,
  PushObjectRequest,
  PushObjectResponse,
} from "@flwr-ts/core/proto";
import {
  AcquireTaskRequest,
  AcquireTaskResponse,
  GetNodesRequest,
  GetNodesResponse,
  PullAppMessagesRequest,
  PullAppMessagesResponse,
  PullTaskInputRequest,
  PullTaskInputResponse,
  PushAppMessagesRequest,
  PushAppMessagesResponse,
  PushTaskOutputRequest,
  PushTaskOutputResponse,
  SendTaskHeartbeatRequest,
  SendTaskHeartbeatResponse,
} from "@flwr-ts/core/proto/runtime";

const unary = <Req, Res>(
  name: string,
  requestType: { encode(m: Req): { finish(): Uint8Array }; decode(b: Uint8Array): Req },
  responseType: { encode(m: Res): { finish(): Uint8Array }; decode(b: Uint8Array): Res },
) =>
  ({
    name,
    requestType,
    requestStream: false,
    responseType,
    responseStream: false,
    options: {},
  }) as const;

/** The Runtime API methods flwr-ts calls (a subset of flwr 1.42's 22 routes). */
export const RuntimeDefinition = {
  name: "Runtime",
  fullName: "flwr.proto.Runtime",
  methods: {
    /** SuperExec: claim the oldest pending task of a supported type (SuperExec auth). */
    acquireTask: unary("AcquireTask", AcquireTaskRequest, AcquireTaskResponse),
    /** Keep the task's token alive; `success=false` once it is gone. */
    sendTaskHeartbeat: unary(
      "SendTaskHeartbeat",
      SendTaskHeartbeatRequest,
      SendTaskHeartbeatResponse,
    ),
    /** The task's context, run and FAB (activates the task). */
    pullTaskInput: unary("PullTaskInput", PullTaskInputRequest, PullTaskInputResponse),
    /** The task's final context and status (finishes the task). */
    pushTaskOutput: unary("PushTaskOutput", PushTaskOutputRequest, PushTaskOutputResponse),
    pushObject: unary("PushObject", PushObjectRequest, PushObjectResponse),
    pullObject: unary("PullObject", PullObjectRequest, PullObjectResponse),
    confirmMessageReceived: unary(
      "ConfirmMessageReceived",
      ConfirmMessageReceivedRequest,
      ConfirmMessageReceivedResponse,
    ),
    /**
     * A ClientApp's reply (exactly one message and its object tree), or a ServerApp's
     * instructions (on a SuperLink).
     */
    pushMessages: unary("PushMessages", PushAppMessagesRequest, PushAppMessagesResponse),
    /** A ClientApp's instruction (at most one), or a ServerApp's replies by instruction id. */
    pullMessages: unary("PullMessages", PullAppMessagesRequest, PullAppMessagesResponse),
    /** A ServerApp's view of the run's nodes (SuperLink only). */
    getNodes: unary("GetNodes", GetNodesRequest, GetNodesResponse),
    pushLogs: unary("PushLogs", PushLogsRequest, PushLogsResponse),
  },
} as const;

/** The type of {@link RuntimeDefinition}. */
export type RuntimeDefinition = typeof RuntimeDefinition;

/** Flower 1.42's task types (`flwr/supercore/constant.py:250-257`, `TaskType`). */
export const TaskType = {
  SERVER_APP: "flwr-serverapp",
  CLIENT_APP: "flwr-clientapp",
  SIMULATION: "flwr-simulation",
  AGENT_APP: "flwr-agentapp",
  MODEL: "flwr-model",
  CONNECTOR: "flwr-connector",
} as const;

/** Flower's task token header (`TASK_TOKEN_HEADER`, `flwr/supercore/constant.py:154`). */
export const TASK_TOKEN_HEADER = "flwr-task-token";

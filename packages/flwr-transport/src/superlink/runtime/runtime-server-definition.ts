/**
 * The Runtime API methods the flwr-ts SuperLink serves (`POST /v1/runtime/<kebab-method>`,
 * Flower 1.42's `flwr/supercore/routers/runtime/router.py`): exactly the ones a Python 1.42
 * `flower-superexec --plugin-type serverapp` and its `flwr-serverapp` call
 * (`flwr/supercore/superexec/run_superexec.py`, `flwr/superlink/runtime/run_serverapp.py`,
 * `flwr/superlink/grid/http_grid.py`, `flwr/supercore/logger.py`'s log uploader). The entries
 * are the client-side definition's (`protocol/runtime/runtime-definition.ts`), so both
 * sides share one codec per route; GetNodes is defined here as well because only a ServerApp on
 * a SuperLink calls it. The other 11 routes of 1.42 answer 404 (see the transport README).
 */
import { GetNodesRequest, GetNodesResponse } from "@flwr-ts/core/proto/runtime";
import { RuntimeDefinition } from "../../protocol/runtime/runtime-definition.js";

const m = RuntimeDefinition.methods;

type Codec<T> = { encode(message: T): { finish(): Uint8Array }; decode(bytes: Uint8Array): T };

const getNodes = {
  name: "GetNodes",
  requestType: GetNodesRequest as Codec<GetNodesRequest>,
  requestStream: false,
  responseType: GetNodesResponse as Codec<GetNodesResponse>,
  responseStream: false,
  options: {},
} as const;

/** The SuperLink's Runtime API service definition (11 of 1.42's 22 routes). */
export const SuperLinkRuntimeDefinition = {
  name: RuntimeDefinition.name,
  fullName: RuntimeDefinition.fullName,
  methods: {
    acquireTask: m.acquireTask,
    sendTaskHeartbeat: m.sendTaskHeartbeat,
    pullTaskInput: m.pullTaskInput,
    pushTaskOutput: m.pushTaskOutput,
    pushObject: m.pushObject,
    pullObject: m.pullObject,
    confirmMessageReceived: m.confirmMessageReceived,
    pushMessages: m.pushMessages,
    pullMessages: m.pullMessages,
    pushLogs: m.pushLogs,
    getNodes,
  },
} as const;

/** The type of {@link SuperLinkRuntimeDefinition}. */
export type SuperLinkRuntimeDefinition = typeof SuperLinkRuntimeDefinition;

/** The method that SuperExec signatures protect (`SuperExecAuthDependency`). */
export { ACQUIRE_TASK_PATH } from "../../protocol/runtime/runtime-auth-middleware.js";

/**
 * Control API federation rpcs with Flower's NoOp federation manager: one federation
 * `@none/default` holding every node and run of the NoOp account; creating, archiving,
 * membership and invitations fail with UNIMPLEMENTED "SuperLink does not support federation
 * management." as in Flower 1.29 OSS.
 */
import type {
  Federation,
  ListFederationsResponse,
  ShowFederationRequest,
  ShowFederationResponse,
} from "@flwr-ts/core/proto";
import type { CallContext } from "../../wire/call-context.js";
import { Code } from "../../wire/code.js";
import { RpcError } from "../../wire/rpc-error.js";
import { untrusted } from "../../wire/untrusted-text.js";
import { type LinkState, NOOP_FEDERATION, NOOP_FLWR_AID } from "../state/link-state.js";
import { isoTimestamp } from "../state/state-values.js";
import type { AccountResolver } from "./account.js";

/** Flower's message for federation management rpcs without a federation manager. */
export const NO_FEDERATION_MANAGEMENT_MESSAGE = "SuperLink does not support federation management.";
/** Flower's NoOp federation description. */
export const NOOP_FEDERATION_DESCRIPTION = "A federation for testing and development purposes.";
/** Flower's message when a request names no federation. */
export const FEDERATION_NOT_SPECIFIED_MESSAGE =
  "No federation specified. You must specify a federation to perform this action.";

const unsupported = (): never => {
  throw new RpcError(Code.UNIMPLEMENTED, NO_FEDERATION_MANAGEMENT_MESSAGE);
};

const needsName = (request: { federationName: string }): never => {
  if (!request.federationName)
    throw new RpcError(Code.FAILED_PRECONDITION, FEDERATION_NOT_SPECIFIED_MESSAGE);
  return unsupported();
};

/** Dependencies of the federation rpcs. */
export interface FederationHandlerDeps {
  /** SuperLink state. */
  state: LinkState;
  /** The caller's account. */
  account: AccountResolver;
  /** Clock in epoch ms; default `Date.now`. */
  clock?: () => number;
}

/** The Control API's federation rpcs (NoOp manager). */
export function createFederationHandlers(deps: FederationHandlerDeps) {
  const { state, account } = deps;
  const clock = deps.clock ?? Date.now;
  return {
    listFederations: (_request: unknown, ctx: CallContext): ListFederationsResponse => {
      if (account(ctx).flwrAid !== NOOP_FLWR_AID) return { federations: [] };
      return {
        federations: [
          {
            name: NOOP_FEDERATION,
            description: NOOP_FEDERATION_DESCRIPTION,
            nodes: [],
            runs: [],
            members: [],
            archived: false,
            simulation: false,
            config: undefined,
            canInviteMembers: false,
            canAddSupernodes: false,
          },
        ],
      };
    },

    showFederation: (request: ShowFederationRequest, ctx: CallContext): ShowFederationResponse => {
      const name = request.federationName;
      if (name !== NOOP_FEDERATION || account(ctx).flwrAid !== NOOP_FLWR_AID)
        throw new RpcError(
          Code.FAILED_PRECONDITION,
          `Federation '${untrusted(name)}' does not exist or you are not a member of it.`,
        );
      const federation: Federation = {
        name,
        description: NOOP_FEDERATION_DESCRIPTION,
        members: [{ account: { id: NOOP_FLWR_AID, name: "none" }, role: "owner" }],
        nodes: state.getNodeInfo({ ownerAids: [NOOP_FLWR_AID] }),
        runs: state.getRunInfo({ flwrAids: [NOOP_FLWR_AID] }),
        archived: false,
        simulation: false,
        config: undefined,
        canInviteMembers: false,
        canAddSupernodes: false,
      };
      return { federation, now: isoTimestamp(clock()) };
    },

    createFederation: needsName,
    archiveFederation: needsName,
    addNodeToFederation: needsName,
    removeNodeFromFederation: needsName,
    removeAccountFromFederation: unsupported,
    createInvitation: unsupported,
    listInvitations: unsupported,
    acceptInvitation: unsupported,
    rejectInvitation: unsupported,
    revokeInvitation: unsupported,
    configureSimulationFederation: (request: { federationName: string }) => {
      const name = request.federationName || NOOP_FEDERATION;
      if (name !== NOOP_FEDERATION)
        throw new RpcError(
          Code.NOT_FOUND,
          "Federation not found, archived, or you cannot perform this action.",
        );
      throw new RpcError(
        Code.NOT_FOUND,
        "Federation not found, archived, or you cannot perform this action.",
      );
    },
    // biome-ignore lint/correctness/useYield: Flower does not implement this stream either.
    streamRunEvents: async function* (): AsyncGenerator<never> {
      throw new RpcError(Code.UNIMPLEMENTED, "StreamRunEvents is not implemented yet.");
    },
  };
}

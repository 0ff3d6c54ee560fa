/**
 * Control API login and artifact rpcs without account authentication or an artifact provider
 * (Flower's NoOp authentication plugin returns empty login details and tokens).
 */
import type { GetAuthTokensResponse, GetLoginDetailsResponse } from "@flwr-ts/core/proto";
import { Code } from "../../wire/code.js";
import { RpcError } from "../../wire/rpc-error.js";

/** Flower's `NO_ARTIFACT_PROVIDER_MESSAGE`. */
export const NO_ARTIFACT_PROVIDER_MESSAGE = "ControlServicer initialized without artifact provider";

/** Login rpcs of the NoOp authentication plugin, and PullArtifacts without a provider. */
export function createLoginHandlers() {
  return {
    getLoginDetails: (): GetLoginDetailsResponse => ({
      authnType: "",
      deviceCode: "",
      verificationUriComplete: "",
      expiresIn: 0n,
      interval: 0n,
    }),
    getAuthTokens: (): GetAuthTokensResponse => ({ accessToken: "", refreshToken: "" }),
    pullArtifacts: (): never => {
      throw new RpcError(Code.UNIMPLEMENTED, NO_ARTIFACT_PROVIDER_MESSAGE);
    },
  };
}

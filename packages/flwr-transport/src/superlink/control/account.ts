/**
 * Who calls the Control API. Without account authentication (`--account-auth-config`, an
 * enterprise feature) Flower uses NoOp plugins: every caller is account `<id:none>` named `none`.
 */
import type { CallContext } from "../../grpc/server-handlers.js";
import { NOOP_ACCOUNT_NAME, NOOP_FLWR_AID } from "../state/link-state.js";

/** The account of a Control API caller. */
export interface Account {
  /** Flower account id (`flwr_aid`). */
  readonly flwrAid: string;
  /** Account name. */
  readonly accountName: string;
}

/** Resolves the caller's account from the call (metadata, attributes set by middleware, …). */
export type AccountResolver = (ctx: CallContext) => Account;

/** The NoOp account every caller has without account authentication. */
export const NOOP_ACCOUNT: Account = { flwrAid: NOOP_FLWR_AID, accountName: NOOP_ACCOUNT_NAME };

/** The resolver used without account authentication. */
export const noopAccountResolver: AccountResolver = () => NOOP_ACCOUNT;

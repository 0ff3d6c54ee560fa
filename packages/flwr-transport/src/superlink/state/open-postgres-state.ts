/**
 * Opens the PostgreSQL LinkState and ObjectStore of a `--database postgresql://…` value: one
 * {@link PostgresBridge} (worker thread, a query connection and a LISTEN connection) shared by
 * both stores, closed when both are closed. Failures are one-line {@link PostgresStateError}s.
 */
import { PostgresObjectStore } from "../../object-store/postgres-object-store.js";
import type { LinkStateOptions } from "./link-state.js";
import { PostgresBridge } from "./postgres-bridge.js";
import { POSTGRES_STATE_CHANNEL, PostgresLinkState } from "./postgres-link-state.js";
import { preparePostgresSchema } from "./postgres-schema.js";
import {
  describeConnectFailure,
  type PostgresLocation,
  PostgresStateError,
  parsePostgresUrl,
} from "./postgres-url.js";

/** Both PostgreSQL stores of one SuperLink. */
export interface PostgresStores {
  /** The LinkState. */
  readonly linkState: PostgresLinkState;
  /** The ObjectStore. */
  readonly objectStore: PostgresObjectStore;
  /** The parsed URL. */
  readonly location: PostgresLocation;
}

/**
 * Connects, creates the schema's tables when absent, and opens both stores.
 * @throws PostgresStateError: bad URL, unreachable server, refused login, missing database,
 *   incompatible schema version.
 */
export function openPostgresState(url: string, options: LinkStateOptions = {}): PostgresStores {
  const location = parsePostgresUrl(url);
  let bridge: PostgresBridge;
  try {
    bridge = new PostgresBridge(location.client, POSTGRES_STATE_CHANNEL);
  } catch (e) {
    throw new PostgresStateError(url, describeConnectFailure(location, e), e);
  }
  try {
    const problem = preparePostgresSchema(bridge, location.schema);
    if (problem !== undefined) throw new PostgresStateError(url, problem);
    let leases = 2;
    const release = () => {
      leases--;
      if (leases === 0) bridge.close();
    };
    const linkState = new PostgresLinkState({
      ...options,
      bridge,
      name: location.url,
      schema: location.schema,
      onClose: release,
    });
    const objectStore = new PostgresObjectStore({ bridge, name: location.url, onClose: release });
    bridge.onNotification = (payload) => linkState.receiveNotification(payload);
    return { linkState, objectStore, location };
  } catch (e) {
    bridge.close();
    if (e instanceof PostgresStateError) throw e;
    throw new PostgresStateError(url, describeConnectFailure(location, e), e);
  }
}

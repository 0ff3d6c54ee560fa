/**
 * Flower 1.29's local simulation SuperLink (`flwr/cli/constant.py`, `cli/local_superlink.py`):
 * a federation or connection whose address is `:local:` (state in
 * `$FLWR_HOME/local-superlink/state.db`) or `:local-in-memory:` is served by a SuperLink in
 * simulation mode on `127.0.0.1:39093` (port: `FLWR_LOCAL_CONTROL_API_PORT`), which `flwr`
 * starts when none answers there.
 */

/** The address of a local simulation SuperLink whose state is a SQLite file. */
export const LOCAL_SUPERLINK_ADDRESS = ":local:";

/** The address of a local simulation SuperLink whose state is in memory. */
export const LOCAL_SUPERLINK_IN_MEMORY_ADDRESS = ":local-in-memory:";

/** Flower's Control API port of the local SuperLink (override: `FLWR_LOCAL_CONTROL_API_PORT`). */
export const LOCAL_CONTROL_API_PORT = 39093;

/** Which local SuperLink an address names, or undefined for a real address. */
export function localSuperLinkOf(address: string): "database" | "in-memory" | undefined {
  if (address === LOCAL_SUPERLINK_ADDRESS) return "database";
  if (address === LOCAL_SUPERLINK_IN_MEMORY_ADDRESS) return "in-memory";
  return undefined;
}

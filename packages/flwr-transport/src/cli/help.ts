/**
 * `-h` / `--help` for the app-process commands, answered before argument validation.
 */

/** True when `argv` asks for help. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/** Usage of `flower-superexec`. */
export const SUPEREXEC_USAGE = `usage: flower-superexec --insecure --appio-api-address ADDR --plugin-type {serverapp,clientapp}
                        [--parent-pid PID]

Start a Flower SuperExec: launches flwr-serverapp / flwr-clientapp processes for the runs of a
SuperLink (--plugin-type serverapp, AppIo address of its ServerAppIo API) or a SuperNode
(--plugin-type clientapp, its ClientAppIo API). Exits when --parent-pid dies.
`;

/** Usage of `flwr-serverapp` / `flwr-clientapp`. */
export function appProcessUsage(command: "flwr-serverapp" | "flwr-clientapp"): string {
  const api = command === "flwr-serverapp" ? "serverappio" : "clientappio";
  const what =
    command === "flwr-serverapp"
      ? "Run the ServerApp of one run"
      : "Run the ClientApp for the messages of one run";
  return `usage: ${command} --insecure --${api}-api-address ADDR --token TOKEN [--parent-pid PID]

${what}; started by flower-superexec with a token from its AppIo API.
Without --token it acts as a SuperExec (deprecated, as in Flower).
`;
}

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

       flower-superexec --runtime-api-address ADDR (--insecure | --root-certificates CA)
                        [--plugin-type {clientapp,serverapp}] [--superexec-auth-secret-file FILE]
                        [--parent-pid PID]

Serve the tasks of a Flower 1.35+ Runtime API: ClientApp tasks (default; a Python 1.42
SuperNode started with --isolation process) or, with --plugin-type serverapp, ServerApp tasks
(a Python 1.42 SuperLink started with --isolation process), launching
flwr-clientapp / flwr-serverapp --runtime-api-address ADDR --token T per task.
An --appio-api-address that answers as such an HTTP API is treated the same way.
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

       ${command} --runtime-api-address ADDR (--token TOKEN | --token-file FILE)
                        (--insecure | --root-certificates CA) [--parent-pid PID]

The same for one task of a Flower 1.35+ Runtime API (${command === "flwr-serverapp" ? "a SuperLink's" : "a SuperNode's"}),
as flower-superexec --runtime-api-address launches it.
`;
}

/**
 * Options and help of the app-process commands (`flower-superexec`, `flwr-serverapp`,
 * `flwr-clientapp`), parsed by commander through `@flwr-ts/core/cli`, and {@link parseFlags},
 * the one way their argument modules (`superexec/app-args.ts`, `superexec/superexec-cli.ts`,
 * `app-runtime/runtime-api/runtime-cli.ts`) read flags.
 */
import {
  type CliOption,
  type CliSpec,
  CliUsageError,
  formatUsageError,
  parseCli,
} from "@flwr-ts/core/cli";
import { UsageError } from "./cli-error.js";

const INSECURE: CliOption = { name: "insecure", help: "Plaintext connection (AppIo has no TLS)." };
const PARENT_PID: CliOption = {
  name: "parent-pid",
  metavar: "PID",
  help: "Exit when this process dies (checked once a second).",
};
const ROOT_CERTIFICATES: CliOption = {
  name: "root-certificates",
  metavar: "CA",
  help: "CA certificate of a TLS Runtime API (instead of --insecure).",
};
const RUNTIME_API: CliOption = {
  name: "runtime-api-address",
  metavar: "ADDR",
  help: "A Flower 1.35+ Runtime HTTP API (a 1.42 SuperNode's or SuperLink's, --isolation process).",
};
const SECRET: CliOption = {
  name: "superexec-auth-secret-file",
  metavar: "FILE",
  help: "SuperExec shared secret: sign AcquireTask with Flower 1.42's HMAC (Runtime API only).",
};
const HIDDEN_IGNORED: CliOption = {
  name: "allow-runtime-dependency-installation",
  help: "Flower 1.42's; ignored.",
  hidden: true,
};

/** `flower-superexec`. */
export const SUPEREXEC_SPEC: CliSpec = {
  name: "flower-superexec",
  description:
    "Start a Flower SuperExec: launches flwr-serverapp / flwr-clientapp processes for the runs of a SuperLink (--plugin-type serverapp, the address of its ServerAppIo API) or a SuperNode (--plugin-type clientapp, its ClientAppIo API). Exits when --parent-pid dies.\n\nWith --runtime-api-address it serves the tasks of a Flower 1.35+ Runtime API: ClientApp tasks (default; a Python 1.42 SuperNode started with --isolation process) or, with --plugin-type serverapp, ServerApp tasks (a Python 1.42 SuperLink started with --isolation process), launching flwr-clientapp / flwr-serverapp --runtime-api-address ADDR --token T per task. An --appio-api-address that answers as such an HTTP API is treated the same way.",
  usage: [
    "flower-superexec --insecure --appio-api-address ADDR --plugin-type {serverapp,clientapp} [--parent-pid PID]",
    "flower-superexec --runtime-api-address ADDR (--insecure | --root-certificates CA) [--plugin-type {clientapp,serverapp}] [--superexec-auth-secret-file FILE] [--parent-pid PID]",
  ],
  options: [
    { name: "appio-api-address", metavar: "ADDR", help: "The ServerAppIo or ClientAppIo API." },
    {
      name: "plugin-type",
      metavar: "TYPE",
      choices: ["serverapp", "clientapp"],
      help: "Which apps to launch.",
    },
    INSECURE,
    RUNTIME_API,
    ROOT_CERTIFICATES,
    SECRET,
    PARENT_PID,
    {
      name: "health-server-address",
      metavar: "ADDR",
      help: "Flower's flag; accepted (the flwr-ts SuperExec serves no health service).",
    },
    { name: "executor", metavar: "EXECUTOR", help: "Flower's flag; accepted.", hidden: true },
    HIDDEN_IGNORED,
  ],
};

/** `flwr-serverapp` / `flwr-clientapp`. */
export function appProcessSpec(command: "flwr-serverapp" | "flwr-clientapp"): CliSpec {
  const api = command === "flwr-serverapp" ? "serverappio" : "clientappio";
  const what =
    command === "flwr-serverapp"
      ? "Run the ServerApp of one run"
      : "Run the ClientApp for the messages of one run";
  return {
    name: command,
    description: `${what}; started by flower-superexec with a token from its AppIo API. Without --token it acts as a SuperExec (deprecated, as in Flower).\n\nWith --runtime-api-address: the same for one task of a Flower 1.35+ Runtime API (${command === "flwr-serverapp" ? "a SuperLink's" : "a SuperNode's"}), as flower-superexec --runtime-api-address launches it.`,
    usage: [
      `${command} --insecure --${api}-api-address ADDR --token TOKEN [--parent-pid PID]`,
      `${command} --runtime-api-address ADDR (--token TOKEN | --token-file FILE) (--insecure | --root-certificates CA) [--parent-pid PID]`,
    ],
    options: [
      {
        name: `${api}-api-address`,
        metavar: "ADDR",
        help: `The ${command === "flwr-serverapp" ? "ServerAppIo" : "ClientAppIo"} API.`,
        default: command === "flwr-serverapp" ? "127.0.0.1:9091" : "127.0.0.1:9094",
      },
      { name: "token", metavar: "TOKEN", help: "The run's (or task's) token." },
      { name: "token-file", metavar: "FILE", help: "File holding the task's token (Runtime API)." },
      INSECURE,
      RUNTIME_API,
      ROOT_CERTIFICATES,
      PARENT_PID,
      {
        name: "appio-api-address",
        metavar: "ADDR",
        help: "Same as --runtime-api-address.",
        hidden: true,
      },
      { name: "run-once", help: "Flower's flag; accepted.", hidden: true },
      {
        name: "flwr-ts-reuse-idle-ms",
        metavar: "MS",
        help: "flwr-ts: keep a ClientApp process warm this long for the run's next message.",
        hidden: true,
      },
      HIDDEN_IGNORED,
    ],
  };
}

/**
 * Parses flags with commander for one of the app-process commands.
 * @param spec - the command (its name is in the error's pointer to `--help`).
 * @param names - the options this form accepts (others are unknown options).
 * @param defaults - values of options not given.
 * @throws UsageError (exit 2) of one line, with "did you mean" and the pointer to `--help`.
 */
export function parseFlags(
  spec: CliSpec,
  names: readonly string[],
  argv: readonly string[],
  defaults: Record<string, string | boolean> = {},
): Record<string, string | boolean | undefined> {
  const options = (spec.options ?? []).filter((o) => names.includes(o.name));
  try {
    const parsed = parseCli({ ...spec, options }, argv);
    return { ...defaults, ...(parsed.values as Record<string, string | boolean>) };
  } catch (error) {
    if (error instanceof CliUsageError) throw new UsageError(formatUsageError(error));
    throw error;
  }
}

/**
 * Command-line arguments shared by `flwr-serverapp`, `flwr-clientapp` and `flower-superexec`
 * (Flower's `add_args_flwr_app_common` + `--parent-pid`), validated with one-line errors.
 */
import { parseAddress } from "../cli/address.js";
import { UsageError } from "../cli/cli-error.js";
import { appProcessSpec, parseFlags } from "../cli/help.js";

/** Parsed app-process arguments. */
export interface AppProcessArgs {
  /** AppIo API address. */
  readonly address: string;
  /** `--token` (absent: act as a SuperExec, deprecated in Flower). */
  readonly token: string | undefined;
  /** `--parent-pid`. */
  readonly parentPid: number | undefined;
  /** `--insecure` (required: AppIo has no TLS). */
  readonly insecure: boolean;
  /** flwr-ts: warm reuse idle time (ms) of `flwr-clientapp`. */
  readonly reuseIdleMs: number;
}

/**
 * Parses `--<addressFlag> ADDR --token T --parent-pid PID --insecure`.
 * @throws UsageError for unknown flags and bad values.
 */
export function parseAppProcessArgs(
  argv: string[],
  addressFlag: string,
  defaultAddress: string,
): AppProcessArgs {
  const command = addressFlag === "serverappio-api-address" ? "flwr-serverapp" : "flwr-clientapp";
  const values = parseFlags(
    appProcessSpec(command),
    [
      addressFlag,
      "token",
      "parent-pid",
      "insecure",
      "run-once",
      "allow-runtime-dependency-installation",
      "flwr-ts-reuse-idle-ms",
    ],
    argv,
    { [addressFlag]: defaultAddress, insecure: false, "flwr-ts-reuse-idle-ms": "0" },
  );
  const address = String(values[addressFlag]);
  if (!parseAddress(address))
    throw new UsageError(`--${addressFlag}: '${address}' is not a host:port address`);
  const pidText = values["parent-pid"] as string | undefined;
  if (pidText !== undefined && !/^\d+$/.test(pidText))
    throw new UsageError(`--parent-pid must be a process id, got '${pidText}'`);
  const idleText = String(values["flwr-ts-reuse-idle-ms"]);
  if (!/^\d+$/.test(idleText))
    throw new UsageError(`--flwr-ts-reuse-idle-ms must be milliseconds, got '${idleText}'`);
  return {
    address,
    token: values["token"] as string | undefined,
    parentPid: pidText === undefined ? undefined : Number(pidText),
    insecure: Boolean(values["insecure"]),
    reuseIdleMs: Number(idleText),
  };
}

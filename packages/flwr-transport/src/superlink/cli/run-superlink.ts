/**
 * `flower-superlink` main: parse, validate, open the stores, start the servers, and shut down
 * cleanly on SIGINT/SIGTERM (Flower's graceful exit codes 1/3 → process status 0).
 */
import { createRequire } from "node:module";
import { LOG_FORMAT_ENV } from "@flwr-ts/core";
import { renderHelp } from "@flwr-ts/core/cli";
import { jsonLogsRequested } from "../../cli/log-format-flag.js";
import { localAppIoAddress, spawnSuperExec } from "../../superexec/spawn-superexec.js";
import { createControlRunHandlers } from "../control/control-runs.js";
import { inspectFab } from "../control/control-runs-fab.js";
import { ExitCode, FlowerExit, flowerExitMessage } from "../flower-exit.js";
import { createFlowerLogger } from "../logger.js";
import { SuperLink } from "../superlink.js";
import { openSuperLinkStores } from "./open-stores.js";
import {
  busyAddressOf,
  findBusyAddress,
  portInUseMessage,
  quietGrpcBindLog,
} from "./port-clash.js";
import { parseSuperLinkArgs, SUPERLINK_SPEC } from "./superlink-args.js";

function version(): string {
  try {
    const pkg = createRequire(import.meta.url)("../../../package.json") as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Runs the SuperLink until a signal arrives.
 * @returns the process exit status.
 */
export async function runSuperLinkCli(argv: readonly string[]): Promise<number> {
  const startedAt = performance.now();
  let verbose = false;
  let log = createFlowerLogger({ format: jsonLogsRequested(argv) ? "json" : "text" });
  try {
    const command = parseSuperLinkArgs(argv);
    if (command.kind === "help") {
      process.stdout.write(renderHelp(SUPERLINK_SPEC));
      return 0;
    }
    if (command.kind === "version") {
      process.stdout.write(`Flower version: ${version()} (flwr-ts)\n`);
      return 0;
    }
    const { config } = command;
    verbose = config.verbose;
    log = createFlowerLogger({ verbose, format: config.logFormat });
    // The SuperExec this process starts logs in the same format (ServerApps keep text).
    if (config.logFormat === "json") process.env[LOG_FORMAT_ENV] = "json";
    log("INFO", "Starting Flower SuperLink");
    for (const warning of config.warnings) log("WARNING", warning);
    // A taken port is found before the database is opened or any API is bound.
    quietGrpcBindLog();
    const busy = await findBusyAddress([
      config.fleetAddress,
      config.serverAppIoAddress,
      ...(config.httpAddress !== undefined ? [config.httpAddress] : []),
      ...(config.healthServerAddress !== undefined ? [config.healthServerAddress] : []),
      ...(config.metricsAddress !== undefined ? [config.metricsAddress] : []),
      config.controlAddress,
    ]);
    if (busy !== undefined) throw FlowerExit.plain(portInUseMessage(busy));
    const { state, store, discardIfCreated } = await openSuperLinkStores(config.database, {
      runLogMaxBytes: config.runLogMaxBytes,
    });
    const superlink = new SuperLink({
      state,
      store,
      fleetAddress: config.fleetAddress,
      controlAddress: config.controlAddress,
      tls: config.tls,
      enableSupernodeAuth: config.enableSupernodeAuth,
      log,
      serverAppIoAddress: config.serverAppIoAddress,
      httpAddress: config.httpAddress,
      fleetCorsOrigins: config.fleetCorsOrigins,
      superExecAuthSecret: config.superExecAuthSecret,
      controlAuth: config.controlAuth,
      grpcMessageLimits: config.grpcMessageLimits,
      healthServerAddress: config.healthServerAddress,
      metricsAddress: config.metricsAddress,
      controlRunHandlers: createControlRunHandlers({
        state,
        store,
        inspectFab,
        log,
        simulation: config.simulation,
      }),
    });
    try {
      await superlink.start();
    } catch (error) {
      await superlink.stop(0);
      discardIfCreated(); // a failed start leaves no new database file behind
      const busyAddress = busyAddressOf(error);
      if (busyAddress !== undefined) throw FlowerExit.plain(portInUseMessage(busyAddress));
      throw FlowerExit.code(
        ExitCode.SUPERLINK_THREAD_CRASH,
        `The SuperLink could not start: ${(error as Error).message}`,
      );
    }
    const superexec =
      config.isolation === "subprocess"
        ? spawnSuperExec(
            localAppIoAddress(config.serverAppIoAddress, superlink.ports.serverAppIoPort),
            "serverapp",
          )
        : undefined;
    log("DEBUG", `SuperLink ready in ${(performance.now() - startedAt).toFixed(0)} ms`);
    return await new Promise<number>((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        const code =
          signal === "SIGINT" ? ExitCode.GRACEFUL_EXIT_SIGINT : ExitCode.GRACEFUL_EXIT_SIGTERM;
        const { level, text, status } = flowerExitMessage(code, "SuperLink terminated gracefully.");
        log(level, text);
        superexec?.kill("SIGTERM");
        void superlink.stop(1000).then(() => resolve(status));
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
  } catch (error) {
    if (error instanceof FlowerExit) {
      // With --log-format json even Flower's bare lines (usage errors, a taken port) are JSON.
      if (jsonLogsRequested(argv) && error.level === "plain") log("ERROR", error.message);
      else error.report(log);
      return error.status;
    }
    throw error;
  }
}

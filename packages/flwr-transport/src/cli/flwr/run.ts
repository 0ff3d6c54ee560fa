/**
 * `flwr run [app-dir] [federation] [--stream] [--run-config 'k=v …'] [--format json]`: builds the
 * app's FAB, starts a run on the federation's SuperLink (Control StartRun) and prints
 * `🎊 Successfully started run <id>`; with `--stream` it then follows the run's logs until it
 * finishes (Python Flower's `flwr run`).
 */
import {
  buildFab,
  parseConfigArgs,
  parseRunConfigArgs,
  simulationConfigFromOverrides,
  userConfigToProto,
} from "@flwr-ts/core";
import type { CliSpec } from "@flwr-ts/core/cli";
import type { SimulationConfig } from "@flwr-ts/core/proto";
import { CliError, UsageError } from "../cli-error.js";
import { type CliCommand, parseCommandArgs } from "../command.js";
import { withControl } from "../control-client.js";
import { loadRunTarget } from "../control-target.js";
import { CommandOutput, parseOutputFormat } from "../output-format.js";
import { FORMAT_OPTION, TARGET_EPILOG } from "./common-options.js";
import { streamRunLogs } from "./log.js";

const SPEC: CliSpec = {
  name: "flwr run",
  description: "Run a Flower App on a federation.",
  usage: ["flwr run [APP-DIR] [FEDERATION|CONNECTION] [OPTIONS]"],
  arguments: [
    { name: "app-dir", help: 'App directory with a package.json "flwr" section.', default: "." },
    {
      name: "federation",
      help: 'Federation name in package.json "flwr.federations" (default: its "default"), or (Flower 1.42) a connection name in $FLWR_HOME/config.toml, used when the app defines no federation of that name (default: [superlink].default when the app has no default federation).',
    },
  ],
  options: [
    {
      name: "stream",
      help: "Stream the run's logs until it finishes; exit 1 unless it completed.",
    },
    {
      name: "run-config",
      short: "c",
      metavar: "TEXT",
      repeatable: true,
      help: "Override run config values: 'key=value key2=\"text\"' (TOML values), repeatable, or one path to a .toml file of overrides.",
    },
    {
      name: "federation-config",
      metavar: "TEXT",
      repeatable: true,
      help: "Override the simulation federation's configuration: 'num-supernodes=100 client-resources-num-cpus=1' (TOML values), repeatable; replaces the federation's \"options\".",
    },
    {
      name: "federation",
      metavar: "NAME",
      help: "Flower federation to run in (default: the connection's \"federation\", else the SuperLink's default).",
    },
    FORMAT_OPTION,
  ],
  epilog: TARGET_EPILOG,
};

/** The `flwr run` command. */
export const command: CliCommand = {
  spec: SPEC,
  async run(argv, io) {
    const parsed = parseCommandArgs(SPEC, argv);
    const [appDir = ".", federationName, extra] = parsed.positionals;
    if (extra !== undefined) throw new UsageError(`Got unexpected extra argument '${extra}'.`);
    const out = new CommandOutput(
      io,
      parseOutputFormat(parsed.values["format"] as string | undefined),
    );
    return out.guard(async () => {
      const federation = loadRunTarget(appDir, federationName);
      let overrides: ReturnType<typeof parseRunConfigArgs>;
      try {
        // `key=value` pairs, or one TOML file (Flower's `parse_config_args`), relative to the cwd.
        overrides = parseRunConfigArgs((parsed.values["run-config"] as string[] | undefined) ?? []);
      } catch (error) {
        throw new UsageError(`--run-config: ${(error as Error).message}`);
      }
      let simulationConfig: SimulationConfig | undefined = federation.simulationConfig;
      const federationConfigArgs =
        (parsed.values["federation-config"] as string[] | undefined) ?? [];
      if (federationConfigArgs.length > 0) {
        try {
          // Flower 1.29: the overrides replace the connection's `options` (with a warning).
          simulationConfig = simulationConfigFromOverrides(parseConfigArgs(federationConfigArgs));
        } catch (error) {
          throw new UsageError(`--federation-config: ${(error as Error).message}`);
        }
        if (federation.simulationConfig !== undefined) {
          io.err(
            '⚠️ Warning: `--federation-config` was provided, so the federation\'s "options" are ignored.\n',
          );
        }
      }
      let fab: ReturnType<typeof buildFab>;
      try {
        fab = buildFab(appDir);
      } catch (error) {
        throw new CliError(`Could not build the app: ${(error as Error).message}`);
      }
      const res = await withControl(federation, (client, timeoutMs) =>
        client.startRun(
          {
            fab: { hashStr: fab.hash, content: Buffer.from(fab.bytes), verifications: new Map() },
            overrideConfig: userConfigToProto(overrides),
            // A simulation federation's `options` (Python 1.29 sends a connection's deprecated
            // `options.` the same way); a `--simulation` SuperLink merges them over its defaults.
            overrideFederationConfig: simulationConfig,
            appSpec: "",
            federation:
              (parsed.values["federation"] as string | undefined) ??
              federation.flowerFederation ??
              "",
            connectorRefs: [],
            userPrompt: "",
            connectorIds: [],
          },
          { timeoutMs },
        ),
      );
      if (res.runId === undefined) throw new CliError("Failed to start run");
      out.line(`🎊 Successfully started run ${res.runId}`);
      out.document({
        success: true,
        "run-id": res.runId.toString(),
        "fab-id": fab.fabId,
        "fab-name": fab.fabId.split("/").pop(),
        "fab-version": fab.fabVersion,
        "fab-hash": fab.hash.slice(0, 8),
        "fab-filename": fab.fileName,
      });
      if (parsed.values["stream"]) {
        const runId = res.runId;
        io.err(`INFO :      Starting logstream for run_id \`${runId}\`\n`);
        await withControl(federation, (client) => streamRunLogs(client, runId, io));
        // The stream ends when the run does: say how, and fail unless it completed (Python's
        // CLI exits 0 either way: 1.29's and 1.42's `flwr/cli/run/run.py` return after `start_stream`,
        // which hides a failed run from scripts and CI).
        const listed = await withControl(federation, (client, timeoutMs) =>
          client.listRuns({ runId }, { timeoutMs }),
        );
        const status = listed.runDict.get(runId)?.status;
        const label = status ? `${status.status}:${status.subStatus}` : "unknown";
        if (label !== "finished:completed") {
          const details = status?.details ? ` (${status.details})` : "";
          io.err(`❌ Run ${runId} ended ${label}${details}.\n`);
          return 1;
        }
      }
      return 0;
    });
  },
};

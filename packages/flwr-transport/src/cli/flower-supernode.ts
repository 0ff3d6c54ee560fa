#!/usr/bin/env node
/**
 * `flower-supernode`: a long-running SuperNode (Flower 1.29's and 1.42's flags; see
 * `supernode-args.ts`, which also documents how the Fleet API's wire — gRPC or Flower 1.40+'s
 * HTTP — is chosen). Thin: parse and validate arguments, load the key and certificate, run, exit.
 */
import { existsSync, statSync } from "node:fs";
import { LOG_FORMAT_ENV } from "@flwr-ts/core";
import { renderHelp } from "@flwr-ts/core/cli";
import { ClientAppIoDefinition } from "@flwr-ts/core/proto";
import { CryptoError, loadPrivateKey } from "@flwr-ts/crypto";
import { startClientAppIo } from "../clientappio/clientappio-runtime.js";
import { type HealthServer, startHealthServer } from "../grpc/health-server.js";
import { CredentialFileError, channelCredentials, readRootCertificates } from "../grpc/tls.js";
import { loadSuperExecAuthSecret } from "../protocol/runtime/superexec-auth.js";
import { SuperNodeFatalError } from "../supernode/errors.js";
import type { FleetWireOptions } from "../supernode/fleet-connection.js";
import { consoleLogger } from "../supernode/log.js";
import { SuperNode } from "../supernode/supernode.js";
import { CliError, formatCliError, toCliError } from "./cli-error.js";
import { ExitCode, exitStatusOf } from "./exit-codes.js";
import { jsonLogsRequested } from "./log-format-flag.js";
import { silenceTlsServerNameWarning } from "./node-warnings.js";
import { parseSuperNodeArgs, SUPERNODE_SPEC } from "./supernode-args.js";
import { packageVersion } from "./version.js";

function fail(error: unknown): never {
  const e = toCliError(error);
  const format = jsonLogsRequested(process.argv.slice(2)) ? "json" : "text";
  consoleLogger("DEBUG", format).log("ERROR", formatCliError(e));
  process.exit(e.status);
}

async function main(argv: string[]): Promise<void> {
  const command = parseSuperNodeArgs(argv);
  if (command.kind === "help") {
    process.stdout.write(renderHelp(SUPERNODE_SPEC));
    return;
  }
  if (command.kind === "version") {
    process.stdout.write(`flwr-ts version: ${packageVersion()}\n`);
    return;
  }
  const args = command.args;
  const logger = consoleLogger(undefined, args.logFormat);
  // The SuperExec and ClientApps this node starts write to its console: the same format.
  if (args.logFormat === "json") process.env[LOG_FORMAT_ENV] = "json";
  logger.log("INFO", "Starting Flower SuperNode");
  for (const w of args.warnings) logger.log("WARNING", w);

  let privateKey: ReturnType<typeof loadPrivateKey> | undefined;
  if (args.privateKeyFile !== undefined) {
    try {
      privateKey = loadPrivateKey(args.privateKeyFile);
    } catch (err) {
      if (err instanceof CryptoError) {
        throw new CliError(`Unable to parse the private key file: ${err.message}`, {
          flowerCode: ExitCode.SUPERNODE_NODE_AUTH_KEY_INVALID,
        });
      }
      throw err;
    }
  }
  const http = args.fleetApiType === "http";
  const why = {
    flag: "--fleet-api-type",
    scheme: "the --superlink scheme",
    port: http ? "port 8000" : "the port",
  }[args.fleetApiTypeSource];
  logger.log(
    "INFO",
    `Fleet API: ${http ? `HTTP${args.insecure ? "" : "S"} (Flower 1.40+)` : "gRPC"} to ${args.superlink} (chosen by ${why}; --fleet-api-type ${http ? "grpc-rere" : "http"} for the other)`,
  );
  if (args.insecure) {
    logger.log(
      "WARNING",
      `Option \`--insecure\` was set. Starting insecure ${http ? "HTTP connection" : "HTTP channel"} to ${args.superlink}.`,
    );
  } else if (args.rootCertificates === undefined) {
    logger.log("INFO", "Using system certificates for TLS connection");
  } else if (!existsSync(args.rootCertificates) || !statSync(args.rootCertificates).isFile()) {
    throw new CliError(
      `Path argument \`--root-certificates\` does not point to a file: ${args.rootCertificates}`,
    );
  }
  let wire: FleetWireOptions;
  try {
    wire = http
      ? {
          wire: "http",
          insecure: args.insecure,
          rootCertificates:
            args.rootCertificates === undefined
              ? undefined
              : readRootCertificates(args.rootCertificates),
        }
      : {
          credentials: channelCredentials({
            insecure: args.insecure,
            rootCertificatesFile: args.rootCertificates,
          }),
          messageLimits: args.messageLimits,
        };
  } catch (err) {
    if (err instanceof CredentialFileError) throw new CliError(err.message);
    throw err;
  }

  const runtimeApi = args.runtimeApi;
  let superExecAuthSecret: Buffer | undefined;
  if (runtimeApi !== undefined && args.superExecAuthSecretFile !== undefined) {
    try {
      superExecAuthSecret = loadSuperExecAuthSecret(args.superExecAuthSecretFile);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const runtimeAddress =
    runtimeApi === undefined
      ? undefined
      : `${runtimeApi.host.includes(":") ? `[${runtimeApi.host}]` : runtimeApi.host}:${runtimeApi.port}`;
  let appIo: Awaited<ReturnType<typeof startClientAppIo>>;
  try {
    appIo = await startClientAppIo({
      address: args.clientappioApiAddress,
      isolation: args.isolation,
      messageLimits: args.messageLimits,
      runtime:
        runtimeApi === undefined || runtimeAddress === undefined
          ? undefined
          : {
              address: runtimeAddress,
              tls: runtimeApi.tls,
              superExecAuthSecret,
              log: (level, message) => logger.log(level, message),
            },
    });
  } catch (err) {
    if (err instanceof CredentialFileError) throw new CliError(err.message);
    throw err;
  }
  logger.log("INFO", `Starting Flower ClientAppIo gRPC server on ${args.clientappioApiAddress}`);
  if (runtimeApi !== undefined)
    logger.log(
      "INFO",
      `Starting Flower Runtime HTTP API (Flower 1.42) on ${runtimeApi.host}:${appIo.runtimePort} (${runtimeApi.tls ? "TLS" : "plain HTTP"}, SuperExec auth ${superExecAuthSecret ? "on" : "off"})`,
    );
  let health: HealthServer | undefined;
  if (args.healthServerAddress !== undefined) {
    try {
      health = await startHealthServer(args.healthServerAddress, [ClientAppIoDefinition.fullName]);
    } catch (err) {
      await appIo.close();
      throw new CliError(
        `Cannot start the health server on ${args.healthServerAddress}: ${(err as Error).message}`,
      );
    }
    logger.log("INFO", `Starting gRPC health server on ${args.healthServerAddress}`);
  }
  const node = new SuperNode({
    ...wire,
    executor: appIo.executor,
    superlink: args.superlink,
    privateKey,
    nodeConfig: args.nodeConfig,
    maxRetries: args.maxRetries,
    maxWaitTimeMs: args.maxWaitTimeMs,
    logger,
  });
  let exitCode: number = ExitCode.SUCCESS;
  const onSignal = (signal: NodeJS.Signals) => {
    if (exitCode !== ExitCode.SUCCESS) {
      logger.log("WARNING", `Received ${signal} again; exiting now.`);
      process.exit(1);
    }
    exitCode = signal === "SIGINT" ? ExitCode.GRACEFUL_EXIT_SIGINT : ExitCode.GRACEFUL_EXIT_SIGTERM;
    void node.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await node.run();
  } catch (err) {
    // The SuperExec child ends first, so that the error line below is the last one printed.
    await appIo.close();
    await health?.close();
    if (err instanceof SuperNodeFatalError) {
      throw new CliError(
        err.message,
        err.exitCode === undefined ? {} : { flowerCode: err.exitCode },
      );
    }
    throw err;
  }
  await appIo.close();
  await health?.close();
  logger.log("INFO", "SuperNode terminated gracefully.");
  process.exit(exitStatusOf(exitCode));
}

silenceTlsServerNameWarning();
main(process.argv.slice(2)).catch(fail);

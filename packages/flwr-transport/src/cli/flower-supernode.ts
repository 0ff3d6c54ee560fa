#!/usr/bin/env node
/**
 * `flower-supernode`: a long-running SuperNode (Flower's flags; see `supernode-args.ts`).
 * Thin: parse and validate arguments, load the key and certificate, run, exit.
 */
import { existsSync, statSync } from "node:fs";
import { CryptoError, loadPrivateKey } from "@flwr-ts/crypto";
import { startClientAppIo } from "../clientappio/clientappio-runtime.js";
import { CredentialFileError, channelCredentials } from "../grpc/tls.js";
import { SuperNodeFatalError } from "../supernode/errors.js";
import { consoleLogger, formatLogLine } from "../supernode/log.js";
import { SuperNode } from "../supernode/supernode.js";
import { CliError, formatCliError, toCliError } from "./cli-error.js";
import { ExitCode, exitStatusOf } from "./exit-codes.js";
import { silenceTlsServerNameWarning } from "./node-warnings.js";
import { parseSuperNodeArgs, SUPERNODE_USAGE } from "./supernode-args.js";
import { packageVersion } from "./version.js";

function fail(error: unknown): never {
  const e = toCliError(error);
  process.stderr.write(`${formatLogLine("ERROR", formatCliError(e))}\n`);
  process.exit(e.status);
}

async function main(argv: string[]): Promise<void> {
  const command = parseSuperNodeArgs(argv);
  if (command.kind === "help") {
    process.stdout.write(`${SUPERNODE_USAGE}\n`);
    return;
  }
  if (command.kind === "version") {
    process.stdout.write(`flwr-ts version: ${packageVersion()}\n`);
    return;
  }
  const args = command.args;
  const logger = consoleLogger();
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
  if (args.insecure) {
    logger.log(
      "WARNING",
      `Option \`--insecure\` was set. Starting insecure HTTP channel to ${args.superlink}.`,
    );
  } else if (args.rootCertificates === undefined) {
    logger.log("INFO", "Using system certificates for TLS connection");
  } else if (!existsSync(args.rootCertificates) || !statSync(args.rootCertificates).isFile()) {
    throw new CliError(
      `Path argument \`--root-certificates\` does not point to a file: ${args.rootCertificates}`,
    );
  }
  let credentials: ReturnType<typeof channelCredentials>;
  try {
    credentials = channelCredentials({
      insecure: args.insecure,
      rootCertificatesFile: args.rootCertificates,
    });
  } catch (err) {
    if (err instanceof CredentialFileError) throw new CliError(err.message);
    throw err;
  }

  const appIo = await startClientAppIo({
    address: args.clientappioApiAddress,
    isolation: args.isolation,
  });
  logger.log("INFO", `Starting Flower ClientAppIo gRPC server on ${args.clientappioApiAddress}`);
  const node = new SuperNode({
    executor: appIo.executor,
    superlink: args.superlink,
    credentials,
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
    if (err instanceof SuperNodeFatalError) {
      throw new CliError(
        err.message,
        err.exitCode === undefined ? {} : { flowerCode: err.exitCode },
      );
    }
    throw err;
  }
  await appIo.close();
  logger.log("INFO", "SuperNode terminated gracefully.");
  process.exit(exitStatusOf(exitCode));
}

silenceTlsServerNameWarning();
main(process.argv.slice(2)).catch(fail);

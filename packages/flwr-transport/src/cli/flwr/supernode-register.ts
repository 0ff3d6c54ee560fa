/**
 * `flwr supernode register <public-key> [app-dir] [federation] [--format json]`, or Flower
 * 1.42's `flwr supernode register <public-key> [connection]`.
 */

import type { CliSpec } from "@flwr-ts/core/cli";
import { CryptoError, loadPublicKey, publicKeyToPem } from "@flwr-ts/crypto";
import { CliError } from "../cli-error.js";
import type { CliCommand } from "../command.js";
import { withControl } from "../control-client.js";
import { loadTarget, targetLines } from "../control-target.js";
import { ExitCode } from "../exit-codes.js";
import { CommandOutput } from "../output-format.js";
import { FORMAT_OPTION, TARGET_ARGUMENTS, TARGET_EPILOG, targetUsage } from "./common-options.js";
import { parseSupernodeArgs } from "./supernode-args.js";

const SPEC: CliSpec = {
  name: "flwr supernode register",
  description: "Register a SuperNode's public key with the SuperLink of a federation.",
  usage: targetUsage("flwr supernode register", "PUBLIC-KEY"),
  arguments: [
    {
      name: "public-key",
      required: true,
      help: "OpenSSH public key file of the SuperNode (e.g. keys/client_credentials_1.pub), ECDSA on a NIST curve (P-384 recommended).",
    },
    ...TARGET_ARGUMENTS,
  ],
  options: [FORMAT_OPTION],
  epilog: TARGET_EPILOG,
};

/** Reads a SuperNode public key file as the PEM bytes the SuperLink stores. */
export function readPublicKeyPem(path: string): Buffer {
  try {
    return Buffer.from(publicKeyToPem(loadPublicKey(path)), "ascii");
  } catch (err) {
    if (err instanceof CryptoError) {
      throw new CliError(err.message, {
        flowerCode: ExitCode.FLWRCLI_NODE_AUTH_PUBLIC_KEY_INVALID,
      });
    }
    throw err;
  }
}

/** The `flwr supernode register` command. */
export const command: CliCommand = {
  spec: SPEC,
  async run(argv, io) {
    const args = parseSupernodeArgs(SPEC, argv);
    const [keyFile, first, second] = args.positionals as [string, string?, string?];
    const out = new CommandOutput(io, args.format);
    return out.guard(async () => {
      const publicKey = readPublicKeyPem(keyFile);
      const federation = loadTarget(first, second);
      for (const line of targetLines(federation)) out.line(line);
      const nodeId = await withControl(federation, async (client, timeoutMs) => {
        const res = await client.registerNode({ publicKey }, { timeoutMs });
        return res.nodeId;
      });
      if (nodeId === undefined || nodeId === 0n)
        throw new CliError("SuperNode couldn't be registered.");
      out.line(`✅ SuperNode ${nodeId} registered successfully.`);
      out.document({ success: true, "node-id": nodeId });
      return 0;
    });
  },
};

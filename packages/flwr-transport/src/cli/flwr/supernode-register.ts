/**
 * `flwr supernode register <public-key> [app-dir] [federation] [--format json]`, or Flower
 * 1.42's `flwr supernode register <public-key> [connection]`.
 */
import { CryptoError, loadPublicKey, publicKeyToPem } from "@flwr-ts/crypto";
import { CliError } from "../cli-error.js";
import type { CliCommand } from "../command.js";
import { withControl } from "../control-client.js";
import { loadTarget, TARGET_HELP, targetLines } from "../control-target.js";
import { ExitCode } from "../exit-codes.js";
import { CommandOutput } from "../output-format.js";
import { parseSupernodeArgs } from "./supernode-args.js";

const USAGE = `Usage: flwr supernode register <public-key> [app-dir] [federation] [--format default|json]
       flwr supernode register <public-key> [connection] [--format default|json]

Register a SuperNode's public key with the SuperLink of a federation.

Arguments:
  public-key   OpenSSH public key file of the SuperNode (e.g. keys/client_credentials_1.pub),
               ECDSA on a NIST curve (P-384 recommended)
  app-dir      App directory whose package.json defines the federation (default: .)
  federation   Federation name in package.json "flwr.federations" (default: its "default")
  connection   Connection name in $FLWR_HOME/config.toml (default: [superlink].default)

${TARGET_HELP}`;

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
  usage: USAGE,
  async run(argv, io) {
    const args = parseSupernodeArgs(argv, ["public-key", "app-dir", "federation"]);
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

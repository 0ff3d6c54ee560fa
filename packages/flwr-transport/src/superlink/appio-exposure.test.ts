/**
 * AppIo exposure (issue #12, finding 3): ServerAppIo (plaintext, hands out run tokens) and the
 * SuperNode's ClientAppIo bind to loopback by default, so a caller from another machine — here:
 * a connection to this machine's non-loopback address — is refused, while local app processes
 * (`--isolation process`) still connect on 127.0.0.1.
 */
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_CLIENTAPPIO, parseSuperNodeArgs } from "../cli/supernode-args.js";
import { MemoryObjectStore } from "../object-store/memory-object-store.js";
import { DEFAULT_SERVERAPPIO_ADDRESS, parseSuperLinkArgs } from "./cli/superlink-args.js";
import { MemoryLinkState } from "./state/memory-link-state.js";
import { SuperLink } from "./superlink.js";

/** An IPv4 address of this machine that is not loopback, if there is one. */
function externalAddress(): string | undefined {
  for (const entries of Object.values(networkInterfaces()))
    for (const e of entries ?? []) if (e.family === "IPv4" && !e.internal) return e.address;
  return undefined;
}

/** Resolves "connected" or the connection error's code. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve("timeout");
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
  });
}

const hostOf = (address: string) => address.slice(0, address.lastIndexOf(":"));
const external = externalAddress();

describe("AppIo APIs are not exposed to the network by default", () => {
  test("flower-superlink's --serverappio-api-address and flower-supernode's --clientappio-api-address default to 127.0.0.1", () => {
    const cmd = parseSuperLinkArgs(["--insecure"]);
    if (cmd.kind !== "run") throw new Error("expected run");
    expect(cmd.config.serverAppIoAddress).toBe("127.0.0.1:9091");
    expect(DEFAULT_SERVERAPPIO_ADDRESS).toBe("127.0.0.1:9091");
    expect(DEFAULT_CLIENTAPPIO).toBe("127.0.0.1:9094");
    const node = parseSuperNodeArgs(["--insecure"]);
    if (node.kind !== "run") throw new Error("expected run");
    expect(node.args.clientappioApiAddress).toBe("127.0.0.1:9094");
    // The operator can still expose them (Python's --isolation process on another host).
    const open = parseSuperLinkArgs(["--insecure", "--serverappio-api-address", "0.0.0.0:9091"]);
    if (open.kind !== "run") throw new Error("expected run");
    expect(open.config.serverAppIoAddress).toBe("0.0.0.0:9091");
  });

  describe.skipIf(external === undefined)(
    `a SuperLink on the default ServerAppIo host, called on ${external ?? "(no non-loopback interface)"}`,
    () => {
      let superlink: SuperLink;
      let port: number;
      beforeAll(async () => {
        superlink = new SuperLink({
          state: new MemoryLinkState(),
          store: new MemoryObjectStore(),
          fleetAddress: "127.0.0.1:0",
          controlAddress: "127.0.0.1:0",
          serverAppIoAddress: `${hostOf(DEFAULT_SERVERAPPIO_ADDRESS)}:0`,
          enableSupernodeAuth: false,
        });
        port = (await superlink.start()).serverAppIoPort;
      });
      afterAll(() => superlink.stop(0));

      test("refuses a connection to the machine's external address, accepts one on 127.0.0.1", async () => {
        expect(await tryConnect(external!, port)).toBe("ECONNREFUSED");
        expect(await tryConnect("127.0.0.1", port)).toBe("connected");
      });
    },
  );
});

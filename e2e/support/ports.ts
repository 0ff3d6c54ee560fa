import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * Lowest port of the kernel's ephemeral range (outgoing connections take their local ports from
 * it). A port picked inside that range can become the local port of some other process's
 * connection before our server binds it (EADDRINUSE), which happens on a busy machine running
 * many gRPC clients; ports below it are only ever taken by explicit binds.
 */
function ephemeralLow(): number {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    return low !== undefined && Number.isInteger(low) ? low : 32768;
  } catch {
    return 32768;
  }
}

const RANGE_START = 20_000;
const rangeEnd = ephemeralLow();
const handedOut = new Set<number>();

/** Resolves with `port` if it can be bound on 127.0.0.1 right now (released again), else 0. */
function tryBind(port: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(0));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1 (released before returning): a random one below the ephemeral
 * range that binds and was not returned before by this process, else one the OS picks.
 */
export async function freePort(): Promise<number> {
  if (rangeEnd - RANGE_START >= 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = RANGE_START + Math.floor(Math.random() * (rangeEnd - RANGE_START));
      if (handedOut.has(port)) continue;
      if ((await tryBind(port)) === port) {
        handedOut.add(port);
        return port;
      }
    }
  }
  const port = await tryBind(0);
  if (port === 0) throw new Error("could not find a free TCP port on 127.0.0.1");
  handedOut.add(port);
  return port;
}

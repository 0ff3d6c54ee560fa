/**
 * A SuperLink started on a port that is taken: one line, Python Flower's
 * (`Port in server address 127.0.0.1:9092 is already in use.`, status 1), and nothing opened or
 * created before it. {@link findBusyAddress} probes every address before the stores are opened
 * and any server is bound; {@link busyAddressOf} reads the address out of a bind error that
 * still happens (a port taken between the probe and the bind); {@link quietGrpcBindLog} drops
 * grpc-js's own `E No address added out of total 1 resolved` line, which would otherwise print
 * beside the SuperLink's.
 */
import { createServer } from "node:net";
import { setLogger } from "@grpc/grpc-js";

/** Python Flower's message for a taken port. */
export function portInUseMessage(address: string): string {
  return `Port in server address ${address} is already in use.`;
}

function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(address.slice(i + 1)) };
}

/** True when `address` (`host:port`, `[v6]:port`) cannot be listened on because it is in use. */
function isBusy(address: string): Promise<boolean> {
  const { host, port } = splitHostPort(address);
  if (port === 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE"));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/**
 * The first of `addresses` whose port is in use, or undefined. Other listen errors (a host that
 * is not local, no permission) are left to the real bind, which reports them.
 */
export async function findBusyAddress(addresses: readonly string[]): Promise<string | undefined> {
  for (const address of addresses) if (await isBusy(address)) return address;
  return undefined;
}

/**
 * The address of an EADDRINUSE bind error (grpc-js: `… errors: [listen EADDRINUSE: address
 * already in use 127.0.0.1:9092]`; node:net: `code` EADDRINUSE with `address`/`port`), else
 * undefined.
 */
export function busyAddressOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code === "EADDRINUSE" && e.address !== undefined && e.port !== undefined)
    return e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
  const m = /EADDRINUSE: address already in use (\S+?)\]?$/m.exec(error.message);
  return m?.[1];
}

/** Installs a grpc-js logger that drops its bind-failure line and keeps every other line. */
export function quietGrpcBindLog(): void {
  setLogger({
    error: (message?: unknown, ...rest: unknown[]) => {
      if (typeof message === "string" && message.startsWith("No address added out of total"))
        return;
      console.error(`E ${String(message)}`, ...rest);
    },
    info: (message?: unknown, ...rest: unknown[]) => console.error(`I ${String(message)}`, ...rest),
    debug: (message?: unknown, ...rest: unknown[]) =>
      console.error(`D ${String(message)}`, ...rest),
  });
}

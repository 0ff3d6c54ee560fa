/**
 * e2e helper: a plain TCP load balancer on 127.0.0.1 (node:net, no TLS termination: the
 * SuperNode's TLS session ends at the SuperLink behind it). Each new connection goes to the
 * next backend in turn; a backend that refuses the connection is skipped, so clients of a dead
 * SuperLink reconnect to a live one. When a backend dies its connections are closed, which the
 * SuperNode sees as UNAVAILABLE and reconnects.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** A running balancer. */
export interface RoundRobinProxy {
  /** The port it listens on. */
  readonly port: number;
  /** Connections forwarded so far, per backend port. */
  readonly forwarded: Map<number, number>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Starts a balancer in front of `backends` (ports on 127.0.0.1). */
export async function startRoundRobinProxy(backends: readonly number[]): Promise<RoundRobinProxy> {
  const forwarded = new Map<number, number>(backends.map((p) => [p, 0]));
  const sockets = new Set<Socket>();
  let next = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  };
  const server: Server = createServer((client) => {
    track(client);
    client.pause();
    const attempt = (tries: number) => {
      if (tries >= backends.length) {
        client.destroy();
        return;
      }
      const port = backends[next++ % backends.length]!;
      const upstream = connect(port, "127.0.0.1");
      let connected = false;
      upstream.once("error", () => {
        if (!connected) attempt(tries + 1);
      });
      upstream.once("connect", () => {
        connected = true;
        track(upstream);
        forwarded.set(port, (forwarded.get(port) ?? 0) + 1);
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
        upstream.once("close", () => client.destroy());
        client.once("close", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

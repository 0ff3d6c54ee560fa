/**
 * The health checks of a running flwr-ts SuperLink and SuperNode (issue #12, Operations): a
 * @grpc/grpc-js client calls `grpc.health.v1.Health/Check` and `Watch` on the Fleet (TLS),
 * Control (TLS), ServerAppIo and the SuperNode's ClientAppIo ports, and `GET`/`HEAD /health` on the
 * HTTP API (Flower 1.42's route) answers 200.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ServingStatus } from "../packages/flwr-transport/src/grpc/health-service.js";
import { healthCheck, healthWatchFirst } from "../packages/flwr-transport/test/health-client.js";
import { freePort } from "./support/ports.js";
import { cliPath, start, stopAll } from "./support/processes.js";
import { makeTlsFixtures, type TlsFixtures } from "./support/tls-fixtures.js";

let dir: string;
let certs: TlsFixtures;
const ports = { fleet: 0, control: 0, serverAppIo: 0, http: 0, clientAppIo: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "flwr-health-"));
  certs = await makeTlsFixtures(join(dir, "certs"));
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const superlink = start(cliPath("flower-superlink"), [
    "--ssl-ca-certfile",
    certs.good.caCert,
    "--ssl-certfile",
    certs.good.serverCert,
    "--ssl-keyfile",
    certs.good.serverKey,
    "--fleet-api-address",
    `127.0.0.1:${ports.fleet}`,
    "--control-api-address",
    `127.0.0.1:${ports.control}`,
    "--serverappio-api-address",
    `127.0.0.1:${ports.serverAppIo}`,
    "--port",
    String(ports.http),
  ]);
  await superlink.waitFor("Starting Control API", 30_000);
  const supernode = start(cliPath("flower-supernode"), [
    "--superlink",
    `127.0.0.1:${ports.fleet}`,
    "--root-certificates",
    certs.good.caCert,
    "--clientappio-api-address",
    `127.0.0.1:${ports.clientAppIo}`,
  ]);
  await supernode.waitFor("Starting Flower ClientAppIo gRPC server", 30_000);
}, 90_000);

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe("grpc.health.v1.Health on every gRPC server", () => {
  test.each([
    ["Fleet", "fleet", "flwr.proto.Fleet", true],
    ["Control", "control", "flwr.proto.Control", true],
    ["ServerAppIo", "serverAppIo", "flwr.proto.ServerAppIo", false],
    ["SuperNode ClientAppIo", "clientAppIo", "flwr.proto.ClientAppIo", false],
  ] as const)("%s: Check and Watch answer SERVING", async (_name, port, service, tls) => {
    const target = {
      address: `127.0.0.1:${ports[port]}`,
      caCertFile: tls ? certs.good.caCert : undefined,
    };
    expect(await healthCheck(target, "")).toBe(ServingStatus.SERVING);
    expect(await healthCheck(target, service)).toBe(ServingStatus.SERVING);
    await expect(healthCheck(target, "no.such.Service")).rejects.toMatchObject({ code: 5 });
    expect(await healthWatchFirst(target, service)).toBe(ServingStatus.SERVING);
    expect(await healthWatchFirst(target, "no.such.Service")).toBe(ServingStatus.SERVICE_UNKNOWN);
  });
});

describe("HTTP API", () => {
  test.each(["GET", "HEAD"])("%s /health answers 200", async (method) => {
    const code = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: ports.http,
          path: "/health",
          method,
          ca: readFileSync(certs.good.caCert),
        },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(code).toBe(200);
  });
});

import {
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  status,
} from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  addHealthService,
  decodeHealthCheckRequest,
  encodeHealthCheckRequest,
  HealthServiceDefinition,
  ServingStatus,
} from "./health-service.js";

const HealthClient = makeGenericClientConstructor(HealthServiceDefinition, "Health");
interface Client {
  check(...args: unknown[]): void;
  watch(...args: unknown[]): unknown;
  close(): void;
}

let server: Server;
let client: Client;

beforeAll(async () => {
  server = new Server();
  addHealthService(server, ["flwr.proto.Fleet"]);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as Client;
});

afterAll(() => {
  client.close();
  server.forceShutdown();
});

function check(service: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) =>
    client.check({ service }, (e: Error | null, r: { status: number }) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

describe("grpc.health.v1.Health", () => {
  test("request bytes round-trip, empty service is an empty message", () => {
    expect(encodeHealthCheckRequest({ service: "" })).toHaveLength(0);
    expect(
      decodeHealthCheckRequest(encodeHealthCheckRequest({ service: "flwr.proto.Fleet" })),
    ).toEqual({
      service: "flwr.proto.Fleet",
    });
    expect(() => decodeHealthCheckRequest(Uint8Array.from([0x0a, 0x05, 0x61]))).toThrow();
  });

  test("Check: SERVING for the server and its services, NOT_FOUND for others", async () => {
    expect(await check("")).toEqual({ status: ServingStatus.SERVING });
    expect(await check("flwr.proto.Fleet")).toEqual({ status: ServingStatus.SERVING });
    await expect(check("flwr.proto.Nope")).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  test("Watch: sends the status, SERVICE_UNKNOWN for an unknown service", async () => {
    for (const [service, expected] of [
      ["flwr.proto.Fleet", ServingStatus.SERVING],
      ["flwr.proto.Nope", ServingStatus.SERVICE_UNKNOWN],
    ] as const) {
      const stream = client.watch({ service }) as AsyncIterable<{ status: number }> & {
        cancel(): void;
      };
      for await (const message of stream) {
        expect(message.status).toBe(expected);
        break;
      }
      stream.cancel();
    }
  });
});

/**
 * A @grpc/grpc-js client of `grpc.health.v1.Health` for tests (e2e tests cannot resolve
 * @grpc/grpc-js themselves): Check, and the first message of Watch.
 */
import { readFileSync } from "node:fs";
import { credentials, makeGenericClientConstructor } from "@grpc/grpc-js";
import { HealthServiceDefinition } from "../src/grpc/health-service.js";

const HealthClient = makeGenericClientConstructor(HealthServiceDefinition, "Health");
interface Client {
  check(...args: unknown[]): void;
  watch(...args: unknown[]): unknown;
  close(): void;
}

/** Where to call: `host:port` and the CA file for TLS (undefined = plaintext). */
export interface HealthTarget {
  readonly address: string;
  readonly caCertFile?: string | undefined;
}

function open(target: HealthTarget): Client {
  const creds = target.caCertFile
    ? credentials.createSsl(readFileSync(target.caCertFile))
    : credentials.createInsecure();
  return new HealthClient(target.address, creds) as unknown as Client;
}

/** Calls Check; resolves with the status number, rejects with the grpc-js error. */
export async function healthCheck(target: HealthTarget, service: string): Promise<number> {
  const c = open(target);
  try {
    return await new Promise<number>((resolve, reject) =>
      c.check(
        { service },
        { deadline: Date.now() + 5000 },
        (e: Error | null, r: { status: number }) => (e ? reject(e) : resolve(r.status)),
      ),
    );
  } finally {
    c.close();
  }
}

/** Opens Watch and resolves with the status of its first message (then cancels). */
export async function healthWatchFirst(target: HealthTarget, service: string): Promise<number> {
  const c = open(target);
  const stream = c.watch({ service }) as AsyncIterable<{ status: number }> & { cancel(): void };
  try {
    for await (const message of stream) return message.status;
    throw new Error("Watch ended without a message");
  } finally {
    stream.cancel();
    c.close();
  }
}

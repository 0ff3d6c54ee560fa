import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import { MemoryLinkState } from "../state/memory-link-state.js";
import { SuperLink } from "../superlink.js";
import {
  busyAddressOf,
  findBusyAddress,
  portInUseMessage,
  quietGrpcBindLog,
} from "./port-clash.js";

describe("a SuperLink on a taken port (issue #12, finding 4)", () => {
  let blocker: Server;
  let taken: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    taken = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  test("findBusyAddress names the taken address and passes free ones and port 0", async () => {
    expect(await findBusyAddress(["127.0.0.1:0", `127.0.0.1:${taken}`])).toBe(`127.0.0.1:${taken}`);
    expect(await findBusyAddress(["127.0.0.1:0"])).toBeUndefined();
    expect(portInUseMessage("127.0.0.1:9092")).toBe(
      "Port in server address 127.0.0.1:9092 is already in use.",
    );
  });

  test("a bind that still fails is one address, without grpc-js's own log line, and Control is never opened", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    quietGrpcBindLog();
    const lines: string[] = [];
    const superlink = new SuperLink({
      state: new MemoryLinkState(),
      store: new MemoryObjectStore(),
      fleetAddress: `127.0.0.1:${taken}`,
      controlAddress: "127.0.0.1:0",
      serverAppIoAddress: "127.0.0.1:0",
      enableSupernodeAuth: false,
      log: (_level, text) => lines.push(text),
    });
    const error = await superlink.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await superlink.stop(0);
    expect(busyAddressOf(error)).toBe(`127.0.0.1:${taken}`);
    expect(errors.mock.calls.flat().join(" ")).not.toMatch(/No address added/);
    expect(lines.join("\n")).not.toMatch(/Starting/);
    errors.mockRestore();
  });

  test("busyAddressOf reads node:net errors and ignores others", () => {
    const net = Object.assign(new Error("listen EADDRINUSE"), {
      code: "EADDRINUSE",
      address: "::1",
      port: 8000,
    });
    expect(busyAddressOf(net)).toBe("[::1]:8000");
    expect(busyAddressOf(new Error("EACCES"))).toBeUndefined();
    expect(busyAddressOf("text")).toBeUndefined();
  });
});

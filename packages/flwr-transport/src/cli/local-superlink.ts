/**
 * Flower 1.29's managed local SuperLink (`flwr/cli/local_superlink.py`): a federation whose
 * address is `:local:` / `:local-in-memory:` (or a package.json federation with `options` and no
 * address) is served by a SuperLink in simulation mode on `127.0.0.1:$FLWR_LOCAL_CONTROL_API_PORT`
 * (default 39093). When nothing answers there, `flwr` starts one in the background
 * (`flower-superlink --insecure --simulation`, state in `$FLWR_HOME/local-superlink/state.db`
 * unless in memory, its output in `$FLWR_HOME/local-superlink/superlink.log`) and waits up to 15 s
 * for it (its pid in `superlink.pid` there). It keeps running after `flwr` exits, so later `flwr run/ls/log/stop` reach the same runs.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FederationConfig, LOCAL_CONTROL_API_PORT } from "@flwr-ts/core";
import { flwrHome } from "../app-runtime/installed-app.js";
import { CliError } from "./cli-error.js";

/** How long `flwr` waits for the local SuperLink it started (Flower's 15 s). */
const STARTUP_TIMEOUT_MS = 15_000;

/** The local SuperLink's Control port: `FLWR_LOCAL_CONTROL_API_PORT` or 39093. */
export function localControlPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env["FLWR_LOCAL_CONTROL_API_PORT"];
  if (raw === undefined || raw === "") return LOCAL_CONTROL_API_PORT;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(port >= 1 && port <= 65535))
    throw new CliError(
      `FLWR_LOCAL_CONTROL_API_PORT must be a port number (1-65535), got '${raw}'.`,
    );
  return port;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Returns the federation with the local SuperLink's address, starting that SuperLink first when
 * nothing listens there; other federations are returned unchanged.
 * @throws CliError when it exits early or does not listen within 15 s (naming its log file).
 */
export async function ensureLocalSuperLink(
  federation: FederationConfig,
): Promise<FederationConfig> {
  if (federation.localSuperLink === undefined) return federation;
  const port = localControlPort();
  const target: FederationConfig = { ...federation, address: `127.0.0.1:${port}` };
  if (await listening(port)) return target;
  const dir = join(flwrHome(), "local-superlink");
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, "superlink.log");
  process.stderr.write(`Starting local SuperLink on 127.0.0.1:${port}...\n`);
  const self = fileURLToPath(import.meta.url);
  const fromSources = self.endsWith(".ts");
  const bin = join(self, "..", `flower-superlink.${fromSources ? "ts" : "js"}`);
  const args = [
    ...(fromSources ? ["--import", "tsx"] : []),
    bin,
    "--insecure",
    "--simulation",
    "--control-api-address",
    `127.0.0.1:${port}`,
    "--serverappio-api-address",
    "127.0.0.1:0",
    "--fleet-api-address",
    "127.0.0.1:0",
    "--no-http-api",
    "--storage-dir",
    join(dir, "ffs"),
    ...(federation.localSuperLink === "database" ? ["--database", join(dir, "state.db")] : []),
  ];
  const fd = openSync(logFile, "a");
  let exited: number | null | undefined;
  try {
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: { ...process.env },
    });
    child.once("exit", (code) => {
      exited = code;
    });
    child.once("error", () => {
      exited = -1;
    });
    child.unref();
    // Its pid, for `kill $(cat …/superlink.pid)` (Flower keeps no such file; it is a flwr-ts aid).
    if (child.pid !== undefined) writeFileSync(join(dir, "superlink.pid"), `${child.pid}\n`);
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined)
      throw new CliError(
        `Failed to start local SuperLink: \`flower-superlink\` exited with code ${exited}. See logs at ${logFile}.`,
      );
    if (await listening(port)) return target;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new CliError(
    `Failed to start local SuperLink within ${STARTUP_TIMEOUT_MS / 1000}s. See logs at ${logFile}.`,
  );
}

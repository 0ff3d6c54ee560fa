/**
 * `--isolation subprocess`: the SuperLink / SuperNode starts this installation's
 * `flower-superexec --insecure --appio-api-address <bound address> --plugin-type <type>
 * --parent-pid <own pid>`, with `0.0.0.0` → `127.0.0.1` and `[::]` → `[::1]` as Flower does, and
 * a parent-death pipe (`app-runtime/parent-monitor.ts`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { withParentPipe } from "../app-runtime/parent-monitor.js";
import type { PluginType } from "./superexec.js";

/** The address an app process uses to reach a server bound to `bindAddress` on `port`. */
export function localAppIoAddress(bindAddress: string, port: number): string {
  const host = bindAddress.slice(0, bindAddress.lastIndexOf(":"));
  if (host === "0.0.0.0" || host === "") return `127.0.0.1:${port}`;
  if (host === "[::]") return `[::1]:${port}`;
  return `${host}:${port}`;
}

/** Starts the SuperExec child (its output goes to this process's console). */
export function spawnSuperExec(appioAddress: string, pluginType: PluginType): ChildProcess {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const script = fileURLToPath(new URL(`../cli/flower-superexec${ext}`, import.meta.url));
  const args = [
    ...(ext === ".ts" ? ["--import", "tsx"] : []),
    script,
    "--insecure",
    "--appio-api-address",
    appioAddress,
    "--plugin-type",
    pluginType,
    "--parent-pid",
    String(process.pid),
  ];
  // A parent-death pipe: the SuperExec (and through its own pipe its apps) ends with this process.
  return spawn(process.execPath, args, withParentPipe("inherit"));
}

#!/usr/bin/env node
/**
 * Entry point of the `flwr-ts` binary (see {@link runCli} for the commands).
 * @module
 */
import { runCli } from "./cli-main.js";

process.exitCode = await runCli(process.argv.slice(2));

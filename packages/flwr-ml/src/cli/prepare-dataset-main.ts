#!/usr/bin/env node
/** Entry point of the `flwr-ts-prepare-dataset` bin. */
import { runPrepareDataset } from "./prepare-dataset.js";

process.exitCode = await runPrepareDataset(process.argv.slice(2));

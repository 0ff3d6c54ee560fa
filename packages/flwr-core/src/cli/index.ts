/**
 * `@flwr-ts/core/cli`: the command-line framework shared by every flwr-ts bin (commander for
 * parsing, one help style, colours, terminal width). Wire-free.
 * @module
 */
export * from "./cli-program.js";
export * from "./colors.js";

/** Log lines of app processes and the SuperExec, in Flower's console format on stderr. */
import { consoleLogger, type LogLevel } from "@flwr-ts/core";

/** Logs one Flower-formatted line (captured into the run's logs by `log-capture.ts`). */
export function appLog(level: LogLevel, message: string): void {
  consoleLogger.log(level, message);
}

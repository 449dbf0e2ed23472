import pino, { type Logger } from "pino";
import type { BuildInfo } from "./build-info";
import type { LogLevel } from "./settings";

export type { Logger } from "pino";

/**
 * One JSON object per line on stdout. Levels are written as names, times as ISO strings; receipt
 * handles and credentials are redacted wherever they would appear, as a second line of defence.
 */
export function createLogger(
  level: LogLevel,
  destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          "receiptHandle",
          "*.receiptHandle",
          "ReceiptHandle",
          "*.ReceiptHandle",
          "*.secretAccessKey",
          "*.sessionToken",
          "*.SecretAccessKey",
          "*.SessionToken",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}

/** The first line of every run: what is running, built from what, on what. */
export function logBanner(logger: Logger, info: BuildInfo): void {
  const banner = logger.level === "silent" ? logger : logger.child({}, { level: "info" });
  banner.info(
    {
      event: "start",
      name: info.name,
      version: info.version,
      commit: info.commit,
      buildTime: info.buildTime,
      node: process.version,
      platform: process.platform,
      arch: process.arch,
    },
    `${info.name} ${info.version} starting`,
  );
}

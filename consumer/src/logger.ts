import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pino, { type Logger } from "pino";
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

/** What the version banner says about this build. */
export interface BuildInfo {
  readonly name: string;
  readonly version: string;
  readonly commit: string;
  readonly buildTime: string;
}

/** Replaced by esbuild (consumer/build.mjs) with the real build's values. */
declare const __BUILD_INFO__: BuildInfo | undefined;

/**
 * The bundle carries its build info; running from source (npm start, tests) reads the package version
 * and asks git for the commit, once, at start-up.
 */
export function buildInfo(): BuildInfo {
  if (typeof __BUILD_INFO__ !== "undefined") return __BUILD_INFO__;
  const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { version: string };
  return { name: "sqs-eks-consumer", version: pkg.version, commit: gitCommit(), buildTime: "source" };
}

function gitCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: __dirname,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unknown";
  }
}

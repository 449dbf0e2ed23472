import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

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

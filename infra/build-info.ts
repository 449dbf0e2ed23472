/**
 * What the image build stamps into the consumer (its version banner): the commit and when it was made.
 * BUILD_TIME is the commit's own timestamp, not the wall clock, so rebuilding an unchanged commit yields the
 * same build arguments and `pulumi up` does not roll the Deployment for nothing.
 */
import { execFileSync } from "node:child_process";

export interface BuildInfo {
  /** Full commit hash, or "unknown" outside a git checkout. */
  readonly gitCommit: string;
  /** ISO 8601 commit time, or "" when unknown. */
  readonly buildTime: string;
}

export function readBuildInfo(repoRoot: string): BuildInfo {
  return {
    gitCommit: git(repoRoot, ["rev-parse", "HEAD"]) ?? "unknown",
    buildTime: git(repoRoot, ["log", "-1", "--format=%cI"]) ?? "",
  };
}

function git(cwd: string, args: readonly string[]): string | undefined {
  try {
    const out = execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return out === "" ? undefined : out;
  } catch {
    return undefined;
  }
}

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogLine } from "./log-capture";

const consumerDir = join(__dirname, "..", "..");

/** Consumers started and not yet exited: a failed test must not leave one running (see killConsumers). */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Kills every consumer a test started and left running (after a failed assertion); waits for them to exit. */
export async function killConsumers(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      return exited;
    }),
  );
}

/** Builds the bundle the image ships (consumer/build.mjs) into a private directory; returns its path. */
export function buildBundle(): string {
  const outfile = join(mkdtempSync(join(tmpdir(), "consumer-bundle-")), "main.js");
  execFileSync(process.execPath, [join(consumerDir, "build.mjs"), "--outfile", outfile], { stdio: "pipe" });
  return outfile;
}

/**
 * Bundles a fixture (a .ts entry under consumer/test/fixtures) the way consumer/build.mjs bundles the
 * image's consumer, so it runs with plain `node` and no TypeScript loader in its heap; returns its path.
 */
export async function buildFixtureBundle(fixture: string): Promise<string> {
  const { build } = await import("esbuild");
  const outfile = join(mkdtempSync(join(tmpdir(), "consumer-fixture-")), "fixture.js");
  await build({
    entryPoints: [fixture],
    outfile,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "cjs",
    mainFields: ["module", "main"],
    keepNames: true,
    logLevel: "warning",
    define: {
      __BUILD_INFO__: JSON.stringify({
        name: "sqs-eks-consumer",
        version: "fixture",
        commit: "fixture",
        buildTime: "fixture",
      }),
    },
  });
  return outfile;
}

/** A consumer running as its own process, its stdout parsed line by line. */
export interface ConsumerProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** Non-JSON output (there should be none). */
  readonly stray: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  waitFor(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine>;
  /** The health port it logged at start-up. */
  healthPort(): Promise<number>;
}

/**
 * Starts `node <script> [args]` (the bundle) or `node --import tsx <script> [args]` (a .ts fixture) with
 * exactly `env` plus PATH: no credentials or AWS settings leak in from the machine running the tests.
 * It runs in the repository's root, or in `cwd`.
 */
export function spawnConsumer(
  script: string,
  env: Record<string, string>,
  scriptArgs: readonly string[] = [],
  cwd: string = join(consumerDir, ".."),
): ConsumerProcess {
  const args = [...(script.endsWith(".ts") ? ["--import", "tsx", script] : [script]), ...scriptArgs];
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: mkdtempSync(join(tmpdir(), "consumer-home-")),
      AWS_EC2_METADATA_DISABLED: "true",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    cwd,
  });
  running.add(child);
  const lines: LogLine[] = [];
  const stray: string[] = [];
  const waiters: (() => void)[] = [];
  let buffer = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        stray.push(text);
      }
    }
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => stray.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal, at: Date.now() });
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  async function waitFor(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0 || child.exitCode !== null) {
        throw new Error(
          `no ${what} within ${timeoutMs} ms (exit ${child.exitCode}); last output:\n${lines
            .slice(-6)
            .map((l) => JSON.stringify(l))
            .join("\n")}\n${stray.join("")}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  return {
    child,
    lines,
    stray,
    exited,
    waitFor,
    async healthPort() {
      return Number((await waitFor((l) => l.event === "config", 15_000, "config line")).healthPort);
    },
  };
}

/** GETs a health path; returns the status code, or 0 when nothing answers. */
export async function probe(
  port: number,
  path: "/livez" | "/readyz" | "/metrics",
): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { BundlePaths } from "./bundles";
import type { Work } from "./contestants/common";
import { DEFAULT_SERVICE_NAME, renderTracingEnv } from "../consumer/src/tracing-config";
import type { Contestant } from "./lineup";
import { createMemoryLimit, type MemoryLimit } from "./memory-limit";
import type { ContestantReport, ReportRequest } from "./protocol";
import type { RequestCounts } from "./request-counter";
import { withTimeout } from "./wait";

/** How long a profiled contestant may take to exit and write its profile before it is killed. */
const PROFILE_EXIT_MS = 30_000;

export interface SpawnOptions {
  readonly bundles: BundlePaths;
  readonly endpoint: string;
  /** HOME for the contestant: an empty directory, so no AWS config of this machine leaks in. */
  readonly homeDir: string;
  readonly queueUrl: string;
  /** Signs every request: the emulator attributes requests to this run by it. */
  readonly accessKeyId: string;
  readonly work: Work | undefined;
  /** Where the bundle's log lines go, for contestants that log to a file. */
  readonly logFile?: string;
  /** The OTLP/HTTP base URL traced contestants export to (`/v1/traces` is appended by the consumer). */
  readonly otlpEndpoint?: string;
  /**
   * Profile the contestant: `node --cpu-prof` writes a .cpuprofile into this directory when it exits.
   * `stop` then ends it with SIGTERM (so the profile is written) instead of SIGKILL.
   */
  readonly cpuProfileDir?: string;
}

/** A running contestant process. */
export interface ContestantProcess {
  readonly pid: number;
  readonly memoryLimit: MemoryLimit | undefined;
  /** Rejects, with the end of its stderr, if the process exits before `stop`. */
  readonly failed: Promise<never>;
  /** Its client-side request counts (contestants with the counting middleware). */
  report(): Promise<RequestCounts>;
  /** Kills it (SIGKILL: shutdown is not measured) and removes its cgroup, if any. */
  stop(): Promise<void>;
}

/**
 * Starts a contestant with exactly the environment it needs: the queue, the emulator's endpoint through
 * the SDK's standard variable, a per-run access key, and this consumer's default settings (HEALTH_PORT=0
 * only so that runs side by side do not collide on a port). Traced contestants also get the OTEL_*
 * variables the stack renders (`renderTracingEnv`: OTLP/HTTP protobuf, the stack's default), and
 * `OTEL_TRACES_SAMPLER=always_off` for the sampled-off one; every other OTEL_* setting is the SDK's default.
 */
export function spawnContestant(contestant: Contestant, options: SpawnOptions): ContestantProcess {
  if (contestant.tracing && !options.otlpEndpoint)
    throw new Error(`${contestant.label} needs an OTLP endpoint to export to`);
  const memoryLimit = contestant.memoryLimitMiB
    ? createMemoryLimit(`bench-${options.accessKeyId}`, contestant.memoryLimitMiB)
    : undefined;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: options.homeDir,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: options.accessKeyId,
    AWS_SECRET_ACCESS_KEY: "bench-placeholder",
    AWS_ENDPOINT_URL_SQS: options.endpoint,
    QUEUE_URL: options.queueUrl,
    HEALTH_PORT: "0",
    ...(options.work ? { BENCH_WORK: options.work } : {}),
    ...(memoryLimit ? { NODE_OPTIONS: memoryLimit.nodeOptions } : {}),
    ...(contestant.tracing && options.otlpEndpoint
      ? renderTracingEnv(options.otlpEndpoint, "http/protobuf", DEFAULT_SERVICE_NAME)
      : {}),
    ...(contestant.tracing === "sampled-off" ? { OTEL_TRACES_SAMPLER: "always_off" } : {}),
  };
  const stdout = contestant.stdout === "file" && options.logFile ? openSync(options.logFile, "w") : "ignore";
  const nodeArgs = [
    ...(options.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    options.bundles[contestant.bundle],
  ];
  const { command, args } = memoryLimit
    ? memoryLimit.wrap(process.execPath, nodeArgs)
    : { command: process.execPath, args: nodeArgs };
  const child = spawn(command, args, {
    env,
    stdio: ["ignore", stdout, "pipe", ...(contestant.reportsClientCounts ? ["ipc" as const] : [])],
  });
  if (typeof stdout === "number") closeSync(stdout);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const failed = exited.then((): Promise<never> =>
    stopping
      ? new Promise<never>(() => undefined)
      : Promise.reject(
          new Error(
            `${contestant.label} exited (code ${child.exitCode}, signal ${child.signalCode}) before the run ended; stderr:\n${stderr}`,
          ),
        ),
  );
  failed.catch(() => undefined);
  return {
    pid: child.pid!,
    memoryLimit,
    failed,
    async report() {
      const answer = new Promise<RequestCounts>((resolve) =>
        child.once("message", (message: ContestantReport) => resolve(message.requests)),
      );
      child.send({ type: "report" } satisfies ReportRequest);
      return withTimeout(Promise.race([answer, failed]), 5_000, `${contestant.label}'s request counts`);
    },
    async stop() {
      stopping = true;
      const running = (): boolean => child.exitCode === null && child.signalCode === null;
      if (options.cpuProfileDir && running()) {
        // Contestants exit on SIGTERM (common.ts; runAsProcess after its graceful stop), writing the profile.
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(PROFILE_EXIT_MS)]);
      }
      if (running()) child.kill("SIGKILL");
      await exited;
      memoryLimit?.remove();
    },
  };
}

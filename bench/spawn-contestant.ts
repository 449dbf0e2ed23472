import { closeSync, openSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { consumerEnv, startProcess, withTimeout, type ConsumerEnvOptions } from "../harness";
import type { BundlePaths } from "./bundles";
import type { Work } from "./contestants/common";
import { DEFAULT_SERVICE_NAME, renderTracingEnv } from "../consumer/src/tracing-config";
import type { Contestant } from "./lineup";
import { createMemoryLimit, type MemoryLimit } from "./memory-limit";
import type { ContestantReport, ReportRequest } from "./protocol";
import type { RequestCounts } from "./request-counter";

/** How long a profiled contestant may take to exit and write its profile before it is killed. */
const PROFILE_EXIT_MS = 30_000;

export interface SpawnOptions extends ConsumerEnvOptions {
  readonly bundles: BundlePaths;
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
  /** Kills it (SIGKILL: shutdown is not measured; SIGTERM first when profiled) and removes its cgroup, if any. */
  stop(): Promise<void>;
}

/**
 * Starts a contestant with exactly the environment it needs: the harness's `consumerEnv` (the queue, the
 * emulator, a per-run access key) and this consumer's default settings. Traced contestants also get the OTEL_*
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
    ...consumerEnv(options),
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
  const proc = startProcess(command, args, { env, stdout, ipc: contestant.reportsClientCounts });
  if (typeof stdout === "number") closeSync(stdout);
  let stopping = false;
  const failed = proc.exited.then(({ code, signal }): Promise<never> =>
    stopping
      ? new Promise<never>(() => undefined)
      : Promise.reject(
          new Error(
            `${contestant.label} exited (code ${code}, signal ${signal}) before the run ended; stderr:\n${proc.stderrTail()}`,
          ),
        ),
  );
  failed.catch(() => undefined);
  return {
    pid: proc.pid,
    memoryLimit,
    failed,
    async report() {
      const answer = new Promise<RequestCounts>((resolve) =>
        proc.child.once("message", (message: ContestantReport) => resolve(message.requests)),
      );
      proc.child.send({ type: "report" } satisfies ReportRequest);
      return withTimeout(Promise.race([answer, failed]), 5_000, `${contestant.label}'s request counts`);
    },
    async stop() {
      stopping = true;
      const { child } = proc;
      if (options.cpuProfileDir && child.exitCode === null && child.signalCode === null) {
        // Contestants exit on SIGTERM (common.ts; runAsProcess after its graceful stop), writing the profile.
        child.kill("SIGTERM");
        await Promise.race([proc.exited, sleep(PROFILE_EXIT_MS)]);
      }
      await proc.kill();
      memoryLimit?.remove();
    },
  };
}

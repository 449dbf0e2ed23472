// Consumer processes of a run: the environment they start with and the handle the orchestrator keeps.
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";

/** What a consumer process needs to reach its queue on the emulator. */
export interface ConsumerEnvOptions {
  /** The emulator's endpoint, passed through the SDK's standard variable AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  /** HOME: an empty directory, so no AWS config of this machine leaks in. */
  readonly homeDir: string;
  readonly queueUrl: string;
  /** Signs every request: the emulator process attributes requests to a run by it. */
  readonly accessKeyId: string;
}

/**
 * The whole environment of a consumer process before its run's own settings: PATH, the emulator, the
 * queue, placeholder credentials (the emulator checks no signature), no instance metadata, and
 * HEALTH_PORT=0 so that processes side by side never collide on a port. Nothing else of this
 * process's environment is passed on.
 */
export function consumerEnv(options: ConsumerEnvOptions): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: options.homeDir,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: options.accessKeyId,
    AWS_SECRET_ACCESS_KEY: "harness-placeholder",
    AWS_ENDPOINT_URL_SQS: options.endpoint,
    QUEUE_URL: options.queueUrl,
    HEALTH_PORT: "0",
  };
}

/** A started process and what the orchestrator reads from it. */
export interface RunningProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process exits (its stdio may still be flushing). */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** The last characters of its stderr so far, for error messages. */
  stderrTail(): string;
  /** SIGKILL unless it has already exited; resolves once it has. */
  kill(): Promise<void>;
}

/**
 * Starts `command args` with exactly `env`. stdin is closed and stderr is piped and kept (its last
 * `stderrTailChars`, 4,000 by default); stdout is as given, and an IPC channel is added when asked.
 */
export function startProcess(
  command: string,
  args: readonly string[],
  options: {
    readonly env: Readonly<Record<string, string>>;
    /** "ignore", "pipe" (read it from `child.stdout`) or an open file descriptor. */
    readonly stdout: "ignore" | "pipe" | number;
    readonly ipc?: boolean;
    readonly stderrTailChars?: number;
  },
): RunningProcess {
  const stdio: StdioOptions = ["ignore", options.stdout, "pipe", ...(options.ipc ? ["ipc" as const] : [])];
  const child = spawn(command, args, { env: { ...options.env }, stdio });
  const keep = options.stderrTailChars ?? 4_000;
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-keep)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    pid: child.pid!,
    exited,
    stderrTail: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

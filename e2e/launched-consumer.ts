// One view of a started consumer, whether podman runs it in a container or it runs as a plain process,
// so that both variants of the end-to-end run make the same checks.
import type { ConsumerProcess } from "../consumer/test/helpers/consumer-process";
import type { LogLine } from "../consumer/test/helpers/log-capture";
import type { RunningContainer } from "./container";

export interface StopOutcome {
  readonly exitCode: number;
  /** Seconds from SIGTERM to exit. */
  readonly seconds: number;
}

export interface LaunchedConsumer {
  /** "container" or "process", for messages. */
  readonly kind: string;
  /** Its JSON log lines so far. */
  logs(): readonly LogLine[];
  /** The first log line `match` accepts, already written or still to come. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL once `graceSeconds` have passed, as the kubelet does. */
  stop(graceSeconds: number): Promise<StopOutcome>;
}

function parsed(line: string): LogLine | undefined {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

export function containerConsumer(container: RunningContainer): LaunchedConsumer {
  let running = true;
  void container.exited.then(() => (running = false));
  return {
    kind: "container",
    logs: () => container.stdout.lines.map(parsed).filter((line): line is LogLine => line !== undefined),
    async waitForLog(match, timeoutMs, what) {
      const line = await container.stdout.waitFor(
        (text) => {
          const candidate = parsed(text);
          return candidate !== undefined && match(candidate);
        },
        timeoutMs,
        what,
      );
      return parsed(line)!;
    },
    isRunning: () => running,
    stop: (graceSeconds) => container.stop(graceSeconds),
  };
}

/** SIGKILL's exit status as a shell (and podman) reports it. */
const KILLED_EXIT_CODE = 137;

export function processConsumer(consumer: ConsumerProcess): LaunchedConsumer {
  return {
    kind: "process",
    logs: () => consumer.lines,
    waitForLog: (match, timeoutMs, what) => consumer.waitFor(match, timeoutMs, what),
    isRunning: () => consumer.child.exitCode === null && consumer.child.signalCode === null,
    async stop(graceSeconds) {
      const startedAt = Date.now();
      consumer.child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<"killed">((resolve) => {
        timer = setTimeout(() => {
          consumer.child.kill("SIGKILL");
          resolve("killed");
        }, graceSeconds * 1000);
      });
      const outcome = await Promise.race([consumer.exited, killed]);
      clearTimeout(timer);
      const exit = outcome === "killed" ? await consumer.exited : outcome;
      return {
        exitCode: outcome === "killed" ? KILLED_EXIT_CODE : (exit.code ?? KILLED_EXIT_CODE),
        seconds: (exit.at - startedAt) / 1000,
      };
    },
  };
}

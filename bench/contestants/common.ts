// What every contestant process shares: where the queue is, what its handler does, the settings all
// contestants use alike, and answering the orchestrator's request for client-side counts.
import { setTimeout as sleep } from "node:timers/promises";
import { SQSClient, type Message } from "@aws-sdk/client-sqs";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { logMessage, toReceivedMessage, type HandlerContext } from "../../consumer/src/handler";
import { createLogger } from "../../consumer/src/logger";
import { DEFAULT_TUNABLES, describeProblems, parseSettings } from "../../consumer/src/settings";
import type { ContestantReport, ReportRequest } from "../protocol";
import { countRequests, type RequestCounts } from "../request-counter";

// Under `npm run bench -- --cpu-prof` a contestant is stopped with SIGTERM: exiting (rather than dying
// of the signal) is what makes `node --cpu-prof` write its profile. Unprofiled runs are SIGKILLed.
process.once("SIGTERM", () => process.exit(0));

/**
 * The handler's work per message: nothing (scenario A), 50 ms of waiting, like an I/O call (B), or
 * this consumer's default log line (P: every contestant logs each message the same way).
 */
export type Work = "none" | "sleep-50ms" | "log";
export const WORKS: readonly Work[] = ["none", "sleep-50ms", "log"];

/** The same for every contestant: this consumer's defaults (long poll 20 s, visibility 30 s, 10 per receive). */
export const WAIT_TIME_SECONDS = DEFAULT_TUNABLES.waitTimeSeconds;
export const VISIBILITY_TIMEOUT_SECONDS = DEFAULT_TUNABLES.visibilityTimeoutSeconds;
export const MAX_MESSAGES = DEFAULT_TUNABLES.maxMessages;

export interface ContestantEnv {
  readonly queueUrl: string;
  readonly endpoint: string;
  readonly region: string;
  readonly work: Work;
}

/** Reads what the orchestrator passes in the environment (credentials come through the SDK's own variables). */
export function readContestantEnv(env: NodeJS.ProcessEnv = process.env): ContestantEnv {
  const { QUEUE_URL: queueUrl, AWS_ENDPOINT_URL_SQS: endpoint, AWS_REGION: region, BENCH_WORK: work } = env;
  if (!queueUrl || !endpoint || !region || !(WORKS as readonly (string | undefined)[]).includes(work)) {
    throw new Error(
      `contestant needs QUEUE_URL, AWS_ENDPOINT_URL_SQS, AWS_REGION and BENCH_WORK (${WORKS.join(" | ")}); got ${JSON.stringify({ queueUrl, endpoint, region, work })}`,
    );
  }
  return { queueUrl, endpoint, region, work: work as Work };
}

/** The work that needs no message: nothing, or 50 ms of waiting. */
export function doWork(work: Exclude<Work, "log">): Promise<unknown> {
  return work === "none" ? Promise.resolve() : sleep(50);
}

/**
 * The work of one message, for contestants that are not this consumer: "log" writes this consumer's
 * default log line (its own logger and log handler, to stdout), so every contestant logs alike.
 */
export function workOf(work: Work): (message: Message) => Promise<unknown> {
  if (work !== "log") return () => doWork(work);
  const parsed = parseSettings(process.env);
  if (!parsed.ok) throw new Error(`invalid settings: ${describeProblems(parsed.problems)}`);
  const context: HandlerContext = {
    logger: createLogger(parsed.value.logLevel),
    signal: new AbortController().signal,
    settings: parsed.value,
    traceContext: ROOT_CONTEXT,
  };
  return (message) => logMessage(toReceivedMessage(message), context);
}

/** A plain SDK client for the emulator, with the shared counting middleware (sqs-consumer and the raw loop). */
export function plainClient(env: ContestantEnv): { sqs: SQSClient; counts: RequestCounts } {
  const sqs = new SQSClient({ endpoint: env.endpoint, region: env.region });
  return { sqs, counts: countRequests(sqs) };
}

/** Answers the orchestrator's "report" with what the counting middleware saw. */
export function answerReports(counts: RequestCounts): void {
  process.on("message", (message: ReportRequest) => {
    if (message.type === "report") process.send?.({ type: "report", requests: counts } satisfies ContestantReport);
  });
}

/** A contestant that fails stops at once, so the orchestrator reports it instead of waiting for a drain. */
export function exitOnError(error: unknown): never {
  console.error(error);
  process.exit(1);
}

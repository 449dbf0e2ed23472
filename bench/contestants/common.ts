// What every contestant process shares: where the queue is, what its handler does, the settings all
// contestants use alike, and answering the orchestrator's request for client-side counts.
import { setTimeout as sleep } from "node:timers/promises";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DEFAULT_TUNABLES } from "../../consumer/src/settings";
import type { ContestantReport, ReportRequest } from "../protocol";
import { countRequests, type RequestCounts } from "../request-counter";

/** The handler's work per message: nothing (scenario A), or 50 ms of waiting, like an I/O call (B). */
export type Work = "none" | "sleep-50ms";

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
  if (!queueUrl || !endpoint || !region || (work !== "none" && work !== "sleep-50ms")) {
    throw new Error(
      `contestant needs QUEUE_URL, AWS_ENDPOINT_URL_SQS, AWS_REGION and BENCH_WORK (none | sleep-50ms); got ${JSON.stringify({ queueUrl, endpoint, region, work })}`,
    );
  }
  return { queueUrl, endpoint, region, work };
}

export function doWork(work: Work): Promise<unknown> {
  return work === "none" ? Promise.resolve() : sleep(50);
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

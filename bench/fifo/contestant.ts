// The FIFO scenario's contestants, one bundle, chosen by BENCH_FIFO_CONTESTANT:
// - consumer: this project's consumer, its real code with default settings;
// - sqs-consumer: sqs-consumer with a per-message handler (it runs a receive's messages at once);
// - sequential: a hand-written loop that keeps order the simple way: receive 10, handle them one by
//   one, delete them, again.
// Each message body is "<group>:<index>"; every handler start is checked against its group's order
// and the counts are sent to the orchestrator when it asks.
import { setTimeout as sleep } from "node:timers/promises";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";
import {
  createLogger,
  createSqsClient,
  describeProblems,
  parseSettings,
  startConsumer,
} from "../../consumer/src/index";
import {
  MAX_MESSAGES,
  VISIBILITY_TIMEOUT_SECONDS,
  WAIT_TIME_SECONDS,
  exitOnError,
  plainClient,
  readContestantEnv,
} from "../contestants/common";

/** The scenario's handler: 10 ms of waiting per message, like an I/O call. */
const WORK_MS = 10;

export interface FifoCounts {
  readonly type: "fifo-report";
  /** Handler runs, redeliveries included. */
  readonly handled: number;
  /** Handler runs that started before every earlier message of their group had finished. */
  readonly violations: number;
}

/** Per group: how many messages from its start have finished, in a row, and which later ones finished early. */
const finishedPrefix = new Map<string, number>();
const finishedEarly = new Map<string, Set<number>>();
let handled = 0;
let violations = 0;

async function handle(body: string): Promise<void> {
  const [group = "", indexText = "0"] = body.split(":");
  const index = Number(indexText);
  if ((finishedPrefix.get(group) ?? 0) < index) violations++;
  await sleep(WORK_MS);
  handled++;
  const early = finishedEarly.get(group) ?? new Set<number>();
  early.add(index);
  let prefix = finishedPrefix.get(group) ?? 0;
  while (early.delete(prefix)) prefix++;
  finishedPrefix.set(group, prefix);
  finishedEarly.set(group, early);
}

process.on("message", (message: { type?: string }) => {
  if (message.type === "report") process.send?.({ type: "fifo-report", handled, violations } satisfies FifoCounts);
});

async function sequentialLoop(): Promise<void> {
  const env = readContestantEnv({ ...process.env, BENCH_WORK: "none" });
  const { sqs } = plainClient(env);
  for (;;) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: env.queueUrl,
        MaxNumberOfMessages: MAX_MESSAGES,
        WaitTimeSeconds: WAIT_TIME_SECONDS,
        VisibilityTimeout: VISIBILITY_TIMEOUT_SECONDS,
      }),
    );
    if (messages.length === 0) continue;
    for (const message of messages) await handle(message.Body ?? "");
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: env.queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

function sqsConsumer(): void {
  const env = readContestantEnv({ ...process.env, BENCH_WORK: "none" });
  const { sqs } = plainClient(env);
  const consumer = Consumer.create({
    queueUrl: env.queueUrl,
    sqs,
    batchSize: MAX_MESSAGES,
    waitTimeSeconds: WAIT_TIME_SECONDS,
    visibilityTimeout: VISIBILITY_TIMEOUT_SECONDS,
    handleMessage: async (message) => {
      await handle(message.Body ?? "");
      return message;
    },
  });
  consumer.on("error", (error) => console.error(error));
  consumer.start();
}

async function thisConsumer(): Promise<void> {
  const parsed = parseSettings(process.env);
  if (!parsed.ok) throw new Error(`invalid settings: ${describeProblems(parsed.problems)}`);
  const settings = parsed.value;
  await startConsumer({
    settings,
    env: process.env,
    logger: createLogger(settings.logLevel),
    sqs: createSqsClient(settings, process.env),
    handler: (message) => handle(message.body),
  });
}

const mode = process.env.BENCH_FIFO_CONTESTANT;
if (mode === "consumer") thisConsumer().catch(exitOnError);
else if (mode === "sqs-consumer") sqsConsumer();
else if (mode === "sequential") sequentialLoop().catch(exitOnError);
else exitOnError(new Error(`BENCH_FIFO_CONTESTANT must be consumer, sqs-consumer or sequential; got ${String(mode)}`));

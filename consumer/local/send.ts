// `npm run send -- 'Hello world!' [count] [--group-id g1]`: sends messages to the queue `npm start`
// created on the embedded emulator (or to QUEUE_URL with the SDK's normal credentials when it is set).
// A FIFO queue (LOCAL_QUEUE_TYPE=fifo for the local one) needs --group-id; each message gets its own
// deduplication id, so repeated bodies are all delivered. On a standard queue --group-id sets a
// fair-queue group.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { GetQueueUrlCommand, QueueDoesNotExist, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { isFifoQueueUrl } from "../src/settings";
import { emulatorClient } from "./emulator";

/** What `npm run send -- <body> [count] [--group-id g]` asks for. */
export interface SendArgs {
  readonly body: string;
  readonly count: number;
  readonly groupId: string | undefined;
}

/** Parses send's arguments (what follows `npm run send --`); throws naming what is wrong. */
export function parseSendArgs(args: readonly string[]): SendArgs {
  const { positionals, values } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { "group-id": { type: "string" } },
  });
  if (positionals.length > 2) throw new Error(`at most a body and a count, got ${positionals.length} arguments`);
  const count = Number(positionals[1] ?? 1);
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`count must be a positive whole number, got ${positionals[1]}`);
  return { body: positionals[0] ?? "Hello world!", count, groupId: values["group-id"] };
}

async function main(): Promise<void> {
  const { body, count, groupId } = parseSendArgs(process.argv.slice(2));
  const region = process.env.AWS_REGION ?? "us-east-1";
  const endpoint = `http://127.0.0.1:${process.env.LOCAL_SQS_PORT ?? 4566}`;
  const sqs = process.env.QUEUE_URL ? new SQSClient({}) : emulatorClient(endpoint, region);
  const queueType = process.env.LOCAL_QUEUE_TYPE ?? "standard";
  if (queueType !== "standard" && queueType !== "fifo")
    throw new Error(`LOCAL_QUEUE_TYPE must be standard or fifo, got "${queueType}"`);
  const localName = `sqs-eks-consumer-local${queueType === "fifo" ? ".fifo" : ""}`;
  const queueUrl = process.env.QUEUE_URL || (await localQueueUrl(sqs, localName, endpoint));
  const fifo = isFifoQueueUrl(queueUrl);
  if (fifo && groupId === undefined)
    throw new Error(`${queueUrl} is a FIFO queue: give a message group with --group-id <id>`);
  for (let sent = 0; sent < count; sent += 10) {
    const n = Math.min(10, count - sent);
    const entries = Array.from({ length: n }, (_, i) => ({
      Id: String(i),
      MessageBody: body,
      ...(groupId === undefined ? {} : { MessageGroupId: groupId }),
      ...(fifo ? { MessageDeduplicationId: randomUUID() } : {}),
    }));
    const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (result.Failed?.length)
      throw new Error(
        `SQS rejected ${result.Failed.length} message(s): ${result.Failed.map((f) => `${f.Code}: ${f.Message}`).join("; ")}`,
      );
  }
  console.log(`sent ${count} message(s) to ${queueUrl}${groupId === undefined ? "" : ` in group ${groupId}`}`);
  sqs.destroy();
}

/** The local queue's URL; when it does not exist, says which queue was looked for where, and how `npm start` makes it. */
async function localQueueUrl(sqs: SQSClient, name: string, endpoint: string): Promise<string> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  } catch (error) {
    // fauxqs answers with the Query protocol's code, SQS with the JSON one.
    const code = (error as { name?: string }).name;
    if (!(error instanceof QueueDoesNotExist) && code !== "AWS.SimpleQueueService.NonExistentQueue") throw error;
    const other = name.endsWith(".fifo") ? "standard (no LOCAL_QUEUE_TYPE)" : "fifo (LOCAL_QUEUE_TYPE=fifo)";
    throw new Error(
      `no queue ${name} on the emulator at ${endpoint}: run npm run send with the same LOCAL_QUEUE_TYPE and LOCAL_SQS_PORT as npm start (is its queue ${other}?), or set QUEUE_URL`,
      { cause: error },
    );
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

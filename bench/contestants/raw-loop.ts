// Contestant: the hand-written SDK loop, the CPU floor: one ReceiveMessage of 10, the batch's
// messages handled concurrently, one DeleteMessageBatch, and again; one request at a time. Its client
// checks every message's digests (the SDK's MD5 middleware, on by default), as this consumer does.
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { RECEIVE_ATTRIBUTES } from "../../consumer/src/receive";
import {
  MAX_MESSAGES,
  VISIBILITY_TIMEOUT_SECONDS,
  WAIT_TIME_SECONDS,
  answerReports,
  workOf,
  exitOnError,
  plainClient,
  readContestantEnv,
} from "./common";

async function main(): Promise<void> {
  const env = readContestantEnv();
  const { sqs, counts } = plainClient(env);
  answerReports(counts);
  const work = workOf(env.work);
  for (;;) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: env.queueUrl,
        MaxNumberOfMessages: MAX_MESSAGES,
        WaitTimeSeconds: WAIT_TIME_SECONDS,
        VisibilityTimeout: VISIBILITY_TIMEOUT_SECONDS,
        // Logging each message as this consumer does needs what it asks for (its receive count, its group).
        ...(env.work === "log" ? RECEIVE_ATTRIBUTES : {}),
      }),
    );
    if (messages.length === 0) continue;
    await Promise.all(messages.map(work));
    const { Failed: failed = [] } = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: env.queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    if (failed.length > 0)
      throw new Error(`DeleteMessageBatch failed for ${failed.length} entries: ${JSON.stringify(failed)}`);
  }
}

main().catch(exitOnError);

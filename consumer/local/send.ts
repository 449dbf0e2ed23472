// `npm run send -- 'Hello world!' [count]`: sends messages to the queue `npm start` created on the
// embedded emulator (or to QUEUE_URL with the SDK's normal credentials when it is set).
import { GetQueueUrlCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { emulatorClient } from "./emulator";

async function main(): Promise<void> {
  const body = process.argv[2] ?? "Hello world!";
  const count = Number(process.argv[3] ?? 1);
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive whole number, got ${process.argv[3]}`);
  const region = process.env.AWS_REGION ?? "us-east-1";
  const endpoint = `http://127.0.0.1:${process.env.LOCAL_SQS_PORT ?? 4566}`;
  const sqs = process.env.QUEUE_URL ? new SQSClient({}) : emulatorClient(endpoint, region);
  const queueUrl = process.env.QUEUE_URL ?? (await sqs.send(new GetQueueUrlCommand({ QueueName: "sqs-eks-consumer-local" }))).QueueUrl!;
  for (let sent = 0; sent < count; sent += 10) {
    const n = Math.min(10, count - sent);
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: Array.from({ length: n }, (_, i) => ({ Id: String(i), MessageBody: body })) }));
  }
  console.log(`sent ${count} message(s) to ${queueUrl}`);
  sqs.destroy();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

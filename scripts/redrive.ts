// `npm run redrive -- --dlq <url|arn> [--rate N] [--to <queue arn>] [--poll-seconds S]`: moves the
// DLQ's messages back (to the queue each came from, unless --to says otherwise) at up to N messages
// per second, printing progress until the move task ends. Ctrl-C cancels the task. Credentials,
// region and endpoint come from the AWS SDK's standard chain and variables (AWS_REGION,
// AWS_PROFILE, AWS_ENDPOINT_URL_SQS, ...). Exit codes: 0 completed, 1 failed or cancelled, 64 bad usage.
import { SQSClient } from "@aws-sdk/client-sqs";
import { parseArgs } from "node:util";
import { MOVE_RATE_MAX, MOVE_RATE_MIN, redrive } from "./redrive/move-task";

const USAGE = `usage: npm run redrive -- --dlq <queue url or arn> [--rate <${MOVE_RATE_MIN}-${MOVE_RATE_MAX} messages/s>] [--to <destination queue arn>] [--poll-seconds <s>]`;
/** A move task's destination: an SQS queue ARN (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html). */
const SQS_QUEUE_ARN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}(\.fifo)?$/;
/** sysexits.h EX_USAGE. */
const EXIT_USAGE = 64;

async function main(): Promise<number> {
  let values: { dlq?: string; rate?: string; to?: string; "poll-seconds"?: string };
  try {
    ({ values } = parseArgs({
      options: {
        dlq: { type: "string" },
        rate: { type: "string" },
        to: { type: "string" },
        "poll-seconds": { type: "string" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const problems: string[] = [];
  if (!values.dlq) problems.push("--dlq is required");
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && (!Number.isInteger(rate) || rate < MOVE_RATE_MIN || rate > MOVE_RATE_MAX))
    problems.push(`--rate ${values.rate}: a whole number from ${MOVE_RATE_MIN} to ${MOVE_RATE_MAX}`);
  const pollSeconds = Number(values["poll-seconds"] ?? "5");
  if (!(pollSeconds > 0 && pollSeconds <= 60))
    problems.push(`--poll-seconds ${values["poll-seconds"]}: a number of seconds above 0, at most 60`);
  if (values.to !== undefined && !SQS_QUEUE_ARN.test(values.to))
    problems.push(`--to ${values.to}: a queue ARN (arn:aws:sqs:<region>:<account>:<name>)`);
  if (problems.length > 0) {
    console.error(`${problems.join("; ")}\n${USAGE}`);
    return EXIT_USAGE;
  }

  // As in consumer/src/sqs-client.ts: an endpoint set through the standard variables must win over the
  // host in a queue URL, or a queue behind an emulator or a private VPC endpoint could not be reached.
  const configuredEndpoint =
    process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() !== "true" &&
    Boolean(process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL);
  const sqs = new SQSClient({
    requestHandler: { requestTimeout: 15_000, connectionTimeout: 5_000 },
    ...(configuredEndpoint ? { useQueueUrlAsEndpoint: false } : {}),
  });
  const stop = new AbortController();
  process.once("SIGINT", () => {
    console.error("cancelling the move task (messages already moved stay moved)...");
    stop.abort();
  });
  try {
    const outcome = await redrive(
      sqs,
      {
        dlq: values.dlq!,
        ...(values.to ? { destinationArn: values.to } : {}),
        ...(rate !== undefined ? { rate } : {}),
        pollMs: pollSeconds * 1000,
      },
      (e) =>
        console.log(
          `${e.Status}: moved ${e.ApproximateNumberOfMessagesMoved ?? 0} of ${e.ApproximateNumberOfMessagesToMove ?? "?"}${e.FailureReason ? ` (${e.FailureReason})` : ""}`,
        ),
      stop.signal,
    );
    console.log(JSON.stringify({ event: "redrive", ...outcome }));
    return outcome.status === "COMPLETED" ? 0 : 1;
  } catch (error) {
    console.error(`redrive failed: ${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  } finally {
    sqs.destroy();
  }
}

void main().then((code) => process.exit(code));

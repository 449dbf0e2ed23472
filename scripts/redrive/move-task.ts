import {
  CancelMessageMoveTaskCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** SQS's bounds for MaxNumberOfMessagesPerSecond. Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html */
export const MOVE_RATE_MIN = 1;
export const MOVE_RATE_MAX = 500;
/** Each AWS call of the redrive ends by this deadline (ms). */
const CALL_DEADLINE_MS = 15_000;

/** Statuses a move task ends in. Source: API_ListMessageMoveTasksResultEntry. */
const FINAL_STATUSES = ["COMPLETED", "CANCELLED", "FAILED"];

export interface MoveRequest {
  /** The DLQ to empty: a queue URL (its ARN is looked up) or an ARN. */
  readonly dlq: string;
  /** Where to: a queue ARN; absent, SQS moves each message back to the queue it came from. */
  readonly destinationArn?: string;
  /** Messages per second, 1 to 500; absent, SQS picks (and raises the rate as it goes). */
  readonly rate?: number;
  /** Time between status polls (ms). */
  readonly pollMs: number;
}

/** What a finished (or abandoned) move reports. */
export interface MoveOutcome {
  readonly taskHandle: string;
  readonly status: string;
  readonly moved: number;
  readonly toMove: number;
  readonly failureReason?: string;
}

/**
 * Moves a DLQ's messages back with StartMessageMoveTask and follows it with ListMessageMoveTasks
 * until it ends, reporting progress after each poll. Aborting `signal` cancels the task
 * (CancelMessageMoveTask; the messages already moved stay moved) and waits for it to end.
 * Throws for an out-of-range rate, a queue that is not found, or a task SQS refuses (e.g. one is
 * already running on this DLQ, or the DLQ is not one of any queue's redrive policy).
 * Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html
 */
export async function redrive(
  sqs: SQSClient,
  request: MoveRequest,
  onProgress: (entry: ListMessageMoveTasksResultEntry) => void,
  signal?: AbortSignal,
): Promise<MoveOutcome> {
  if (
    request.rate !== undefined &&
    (!Number.isInteger(request.rate) || request.rate < MOVE_RATE_MIN || request.rate > MOVE_RATE_MAX)
  ) {
    throw new Error(
      `rate ${request.rate} is out of range: a whole number of messages per second from ${MOVE_RATE_MIN} to ${MOVE_RATE_MAX}`,
    );
  }
  const sourceArn = await queueArn(sqs, request.dlq);
  const started = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      ...(request.destinationArn !== undefined ? { DestinationArn: request.destinationArn } : {}),
      ...(request.rate !== undefined ? { MaxNumberOfMessagesPerSecond: request.rate } : {}),
    }),
    { abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS) },
  );
  const taskHandle = started.TaskHandle ?? "";
  let cancelled = false;
  for (;;) {
    if (signal?.aborted && !cancelled) {
      cancelled = true;
      await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: taskHandle }), {
        abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS),
      });
    }
    const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }), {
      abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS),
    });
    const entry = Results.find((r) => r.TaskHandle === taskHandle) ?? Results[0];
    if (entry === undefined) throw new Error(`SQS lists no move task for ${sourceArn}`);
    onProgress(entry);
    if (FINAL_STATUSES.includes(entry.Status ?? "")) {
      return {
        taskHandle,
        status: entry.Status ?? "",
        moved: entry.ApproximateNumberOfMessagesMoved ?? 0,
        toMove: entry.ApproximateNumberOfMessagesToMove ?? 0,
        ...(entry.FailureReason ? { failureReason: entry.FailureReason } : {}),
      };
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, request.pollMs);
      signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}

/** An ARN as it is; a queue URL turned into its ARN with GetQueueAttributes. */
async function queueArn(sqs: SQSClient, queue: string): Promise<string> {
  if (queue.startsWith("arn:")) return queue;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue, AttributeNames: ["QueueArn"] }),
    { abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS) },
  );
  if (!Attributes?.QueueArn) throw new Error(`${queue} has no QueueArn attribute`);
  return Attributes.QueueArn;
}

import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface Task {
  readonly TaskHandle: string;
  Status: "RUNNING" | "COMPLETED" | "CANCELLING" | "CANCELLED" | "FAILED";
  readonly SourceArn: string;
  readonly DestinationArn?: string;
  readonly MaxNumberOfMessagesPerSecond?: number;
  ApproximateNumberOfMessagesMoved: number;
  readonly ApproximateNumberOfMessagesToMove: number;
  FailureReason?: string;
  readonly StartedTimestamp: number;
}

/**
 * fauxqs has no message move tasks, so this stand-in sits in front of it on loopback: it answers
 * StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask itself (AWS JSON protocol)
 * and forwards every other SQS request to the emulator. A task moves messages for real, with
 * ReceiveMessage, SendMessageBatch and DeleteMessageBatch on the emulator, at most
 * MaxNumberOfMessagesPerSecond each second (SQS's default when absent is modelled as 10), to the
 * DestinationArn or else the queue whose redrive policy names the DLQ; it moves the messages the DLQ
 * held when it started. Like SQS it refuses a second active task on one source, a source that is no
 * queue's DLQ (without a destination), and a rate outside 1-500. `moves` records every task started.
 * Source for the behaviour modelled: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html
 */
export async function startMoveTaskStandIn(
  emulatorEndpoint: string,
  sqs: SQSClient,
): Promise<{ endpoint: string; tasks: Task[]; close(): Promise<void> }> {
  const tasks: Task[] = [];
  let handles = 0;
  const running = new Set<Promise<void>>();
  const target = new URL(emulatorEndpoint);

  const arnToUrl = async (arn: string): Promise<string> => {
    const [, , , , account, name] = arn.split(":");
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name!, QueueOwnerAWSAccountId: account! }))).QueueUrl!;
  };
  const redriveSource = async (dlqArn: string): Promise<string | undefined> => {
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
    for (const url of QueueUrls) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["RedrivePolicy"] }),
      );
      if (
        Attributes.RedrivePolicy &&
        (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn: string }).deadLetterTargetArn === dlqArn
      )
        return url;
    }
    return undefined;
  };

  const move = async (task: Task, sourceUrl: string, destinationUrl: string): Promise<void> => {
    const perSecond = task.MaxNumberOfMessagesPerSecond ?? 10;
    while (
      task.Status === "RUNNING" &&
      task.ApproximateNumberOfMessagesMoved < task.ApproximateNumberOfMessagesToMove
    ) {
      const secondStarted = Date.now();
      let budget = Math.min(perSecond, task.ApproximateNumberOfMessagesToMove - task.ApproximateNumberOfMessagesMoved);
      while (budget > 0 && task.Status === "RUNNING") {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: sourceUrl,
            MaxNumberOfMessages: Math.min(10, budget),
            WaitTimeSeconds: 0,
            MessageAttributeNames: ["All"],
          }),
        );
        if (Messages.length === 0) break;
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: destinationUrl,
            Entries: Messages.map((m, i) => ({
              Id: String(i),
              MessageBody: m.Body!,
              ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}),
            })),
          }),
        );
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: sourceUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        task.ApproximateNumberOfMessagesMoved += Messages.length;
        budget -= Messages.length;
      }
      if (budget > 0 && task.Status === "RUNNING") break;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, secondStarted + 1000 - Date.now())));
    }
    task.Status = task.Status === "CANCELLING" ? "CANCELLED" : "COMPLETED";
  };

  const answer = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
    res.end(JSON.stringify(body));
  };
  const fault = (res: ServerResponse, type: string, message: string): void =>
    answer(res, 400, { __type: `com.amazonaws.sqs#${type}`, message });

  const handle = async (
    operation: string,
    input: {
      SourceArn?: string;
      DestinationArn?: string;
      MaxNumberOfMessagesPerSecond?: number;
      MaxResults?: number;
      TaskHandle?: string;
    },
    res: ServerResponse,
  ): Promise<void> => {
    if (operation === "StartMessageMoveTask") {
      const sourceArn = input.SourceArn ?? "";
      const rate = input.MaxNumberOfMessagesPerSecond;
      if (rate !== undefined && (rate < 1 || rate > 500))
        return fault(res, "InvalidParameterValueException", "MaxNumberOfMessagesPerSecond must be between 1 and 500");
      if (tasks.some((t) => t.SourceArn === sourceArn && t.Status === "RUNNING"))
        return fault(res, "UnsupportedOperation", "A message move task is already running on this source queue");
      const sourceUrl = await arnToUrl(sourceArn).catch(() => undefined);
      if (sourceUrl === undefined)
        return fault(res, "ResourceNotFoundException", `The source queue ${sourceArn} does not exist`);
      const destinationUrl = input.DestinationArn
        ? await arnToUrl(input.DestinationArn).catch(() => undefined)
        : await redriveSource(sourceArn);
      if (destinationUrl === undefined)
        return fault(
          res,
          "InvalidParameterValueException",
          `${sourceArn} is not a dead-letter queue of any queue, and no DestinationArn was given`,
        );
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: sourceUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
      );
      const task: Task = {
        TaskHandle: `stand-in-task-${++handles}`,
        Status: "RUNNING",
        SourceArn: sourceArn,
        ...(input.DestinationArn ? { DestinationArn: input.DestinationArn } : {}),
        ...(rate !== undefined ? { MaxNumberOfMessagesPerSecond: rate } : {}),
        ApproximateNumberOfMessagesMoved: 0,
        ApproximateNumberOfMessagesToMove: Number(Attributes.ApproximateNumberOfMessages ?? 0),
        StartedTimestamp: Date.now(),
      };
      tasks.push(task);
      const moving = move(task, sourceUrl, destinationUrl).catch((error: unknown) => {
        task.Status = "FAILED";
        task.FailureReason = String(error);
      });
      running.add(moving);
      void moving.finally(() => running.delete(moving));
      return answer(res, 200, { TaskHandle: task.TaskHandle });
    }
    if (operation === "ListMessageMoveTasks") {
      const results = tasks
        .filter((t) => t.SourceArn === input.SourceArn)
        .reverse()
        .slice(0, Number(input.MaxResults ?? 1));
      return answer(res, 200, { Results: results });
    }
    const task = tasks.find((t) => t.TaskHandle === input.TaskHandle);
    if (task === undefined || task.Status !== "RUNNING")
      return fault(res, "ResourceNotFoundException", "No running task with this handle");
    task.Status = "CANCELLING";
    return answer(res, 200, { ApproximateNumberOfMessagesMoved: task.ApproximateNumberOfMessagesMoved });
  };

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse): void => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answerStream) => {
        res.writeHead(answerStream.statusCode ?? 502, answerStream.headers);
        answerStream.pipe(res);
      },
    );
    upstream.on("error", () => answer(res, 502, { message: "emulator unreachable" }));
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers["x-amz-target"] ?? "").replace(/^AmazonSQS\./, "");
      if (["StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask"].includes(operation)) {
        handle(operation, JSON.parse(body.toString() || "{}") as Parameters<typeof handle>[1], res).catch(
          (error: unknown) => fault(res, "InternalError", String(error)),
        );
      } else {
        forward(req, body, res);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tasks,
    async close() {
      for (const t of tasks) if (t.Status === "RUNNING") t.Status = "CANCELLING";
      await Promise.allSettled(running);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

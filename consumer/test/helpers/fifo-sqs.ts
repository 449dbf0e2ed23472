import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * FifoSqs: a small SQS stand-in on loopback that speaks the JSON protocol the AWS SDK for JavaScript v3
 * uses (POST, `X-Amz-Target: AmazonSQS.<Operation>`, `application/x-amz-json-1.0`), and that follows
 * SQS's FIFO delivery rules where fauxqs does not (fauxqs hands out one message per group per receive
 * and ignores ReceiveRequestAttemptId, so a consumer's ordering faults can never show against it).
 *
 * What it does, with the SQS Developer Guide page each rule comes from:
 * - "FIFO queue delivery logic" (FIFO-queues-understanding-logic.html) and the knowledge-center page
 *   "sqs-fifo-messages-not-returned": a receive returns as many messages of one group as it can, in the
 *   group's order, up to MaxNumberOfMessages (10), then fills up from other groups; a group whose
 *   received messages are not all deleted or visible again serves nothing more.
 * - "Using the receive request attempt ID" and the API reference of ReceiveMessage: a receive retried
 *   with the same ReceiveRequestAttemptId within 5 minutes returns the same messages and receipt
 *   handles, and resets their visibility timeout, as long as none of them was deleted or had its
 *   visibility changed; after that the id starts a new receive.
 * - "Exactly-once processing" / "Using the message deduplication ID": a send repeating a deduplication
 *   id (or a body, with ContentBasedDeduplication) within 5 minutes is accepted and not enqueued again;
 *   `DeduplicationScope: messageGroup` scopes that per group.
 * - Visibility timeout, ChangeMessageVisibility(Batch), DeleteMessage(Batch), long polling (a poll keeps
 *   being served after its client hangs up, as SQS does), redrive to a DLQ after maxReceiveCount.
 * - Standard queues are served too, without any group locking: on a standard queue MessageGroupId
 *   means fair queues, not order ("Using the message group ID").
 *
 * - Throttling, when a test asks for it (`throttle`): the request is answered with FIFO's
 *   `ThrottlingException` ("Troubleshoot FIFO throttling issues") without being served, and a throttled
 *   ReceiveMessage voids its ReceiveRequestAttemptId: a later receive with that id is answered
 *   `InvalidParameterValue` ("The receiveRequestAttemptId is not valid anymore since the receive call is
 *   not retryable"), as AWS support described SQS's behaviour in awslabs/amazon-sqs-java-messaging-lib#213.
 *
 * Not modelled: message attributes (not stored or returned), DelaySeconds, the high-throughput
 * partitions, permissions. Every request is recorded; `loseAnswer` lets a test drop the answer to a
 * request after the stand-in has served it (the connection is reset instead), the way a network fault
 * loses a receive that SQS already handed out; `alterAnswer` lets a test damage an answer on its way
 * (a message whose body no longer matches its MD5, as a faulty proxy would deliver it).
 */
export interface FifoSqs {
  /** e.g. http://127.0.0.1:40123: set as AWS_ENDPOINT_URL_SQS or a client's `endpoint`. */
  readonly endpoint: string;
  /** Every request served, in order. */
  readonly requests: readonly ServedRequest[];
  /** Receive answers, in the order they were served (retries served from an attempt id included). */
  readonly receives: readonly ServedReceive[];
  /** Requests answered ThrottlingException, and receives refused for reusing a throttled attempt id, in order. */
  readonly refusals: readonly {
    readonly operation: string;
    readonly code: "ThrottlingException" | "InvalidParameterValue";
    readonly attemptId: string | undefined;
  }[];
  /** Messages in a queue by state. */
  depth(queueName: string): { visible: number; inFlight: number };
  close(): Promise<void>;
}

export interface ServedRequest {
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
}

export interface ServedReceive {
  readonly queueName: string;
  readonly attemptId: string | undefined;
  /** True when the answer was a replay of an earlier receive with the same attempt id. */
  readonly replayed: boolean;
  readonly messageIds: readonly string[];
}

export interface FifoSqsOptions {
  /** Called as each request arrives, before it is served (the benchmark times drains by it). */
  readonly onRequest?: (request: ServedRequest) => void;
  /** Return true to serve the request but reset the connection instead of sending `output`. */
  readonly loseAnswer?: (request: ServedRequest, output: Readonly<Record<string, unknown>>) => boolean;
  /** Called with a served request's output before it is sent: a test may change it (damage a message). */
  readonly alterAnswer?: (request: ServedRequest, output: Record<string, unknown>) => void;
  /** Return true to answer the request ThrottlingException without serving it. */
  readonly throttle?: (request: ServedRequest) => boolean;
}

const ACCOUNT = "000000000000";
const REGION = "us-east-1";
/** SQS's deduplication window and ReceiveRequestAttemptId validity. */
const DEDUP_WINDOW_MS = 5 * 60_000;
/** How often a long poll re-checks for messages whose visibility timeout ran out. */
const POLL_TICK_MS = 20;

interface StoredMessage {
  readonly id: string;
  readonly body: string;
  readonly md5: string;
  readonly groupId: string | undefined;
  readonly deduplicationId: string | undefined;
  readonly sequenceNumber: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  /** When it is visible (ms since epoch); in flight while in the future after a receive. */
  visibleAt: number;
  /** The receipt handle of its latest receive; older ones are stale. */
  receiptHandle: string | undefined;
  /** Bumped by every delete or visibility change: a receive replay needs none since the receive. */
  modifications: number;
}

interface Queue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly attributes: Record<string, string>;
  /** Every message by id, in the order sent (a Map keeps insertion order). */
  readonly messages: Map<string, StoredMessage>;
  readonly byHandle: Map<string, StoredMessage>;
  /** FIFO queues: each group's messages in order; a group with none left is removed. */
  readonly groups: Map<string | undefined, StoredMessage[]>;
  readonly dedup: Map<string, { messageId: string; sequenceNumber: string; at: number }>;
  readonly attempts: Map<string, { at: number; messages: StoredMessage[]; modifications: number[]; handles: string[] }>;
}

class SqsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly queryCode = type,
  ) {
    super(message);
  }
}

/** Starts the stand-in on 127.0.0.1 with a free port. */
export async function startFifoSqs(options: FifoSqsOptions = {}): Promise<FifoSqs> {
  const queues = new Map<string, Queue>();
  const requests: ServedRequest[] = [];
  const receives: ServedReceive[] = [];
  const refusals: {
    operation: string;
    code: "ThrottlingException" | "InvalidParameterValue";
    attemptId: string | undefined;
  }[] = [];
  /** Attempt ids of throttled receives: SQS does not honour them again. */
  const voidAttemptIds = new Set<string>();
  const sockets = new Set<Socket>();
  let sequence = 10_000_000_000_000_000n;
  let endpoint = "";

  const queueOf = (input: Record<string, unknown>): Queue => {
    const url = text(input.QueueUrl) ?? "";
    const queue = queues.get(url.split("/").at(-1) ?? "");
    if (!queue)
      throw new SqsError(
        "QueueDoesNotExist",
        "The specified queue does not exist.",
        "AWS.SimpleQueueService.NonExistentQueue",
      );
    return queue;
  };

  const findByHandle = (queue: Queue, handle: unknown): StoredMessage => {
    const message = typeof handle === "string" ? queue.byHandle.get(handle) : undefined;
    if (!message) throw new SqsError("ReceiptHandleIsInvalid", `The receipt handle "${String(handle)}" is not valid.`);
    return message;
  };

  const deleteMessage = (queue: Queue, handle: unknown): void => {
    const message = findByHandle(queue, handle);
    remove(queue, message);
    message.modifications++;
  };

  const changeVisibility = (queue: Queue, handle: unknown, seconds: unknown): void => {
    const message = findByHandle(queue, handle);
    if (message.visibleAt <= Date.now())
      throw new SqsError(
        "MessageNotInflight",
        "The message is not in flight.",
        "AWS.SimpleQueueService.MessageNotInflight",
      );
    message.visibleAt = Date.now() + Number(seconds) * 1000;
    message.modifications++;
  };

  const send = (queue: Queue, entry: Record<string, unknown>): Record<string, string> => {
    const body = text(entry.MessageBody) ?? "";
    if (body === "") throw new SqsError("MissingParameter", "The request must contain the parameter MessageBody.");
    const groupId = text(entry.MessageGroupId);
    let deduplicationId = text(entry.MessageDeduplicationId);
    const md5 = createHash("md5").update(body).digest("hex");
    if (queue.fifo) {
      if (groupId === undefined)
        throw new SqsError("MissingParameter", "The request must contain the parameter MessageGroupId.");
      if (entry.DelaySeconds !== undefined)
        throw new SqsError("InvalidParameterValue", "DelaySeconds is not supported per message on FIFO queues.");
      if (deduplicationId === undefined) {
        if (queue.attributes.ContentBasedDeduplication !== "true") {
          throw new SqsError(
            "InvalidParameterValue",
            "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly.",
          );
        }
        deduplicationId = createHash("sha256").update(body).digest("hex");
      }
      const key =
        queue.attributes.DeduplicationScope === "messageGroup" ? `${groupId}\u0000${deduplicationId}` : deduplicationId;
      const seen = queue.dedup.get(key);
      if (seen && Date.now() - seen.at < DEDUP_WINDOW_MS)
        return { MessageId: seen.messageId, MD5OfMessageBody: md5, SequenceNumber: seen.sequenceNumber };
      const message = store(queue, body, md5, groupId, deduplicationId);
      queue.dedup.set(key, { messageId: message.id, sequenceNumber: message.sequenceNumber, at: message.sentAt });
      return { MessageId: message.id, MD5OfMessageBody: md5, SequenceNumber: message.sequenceNumber };
    }
    const message = store(queue, body, md5, groupId, undefined);
    return { MessageId: message.id, MD5OfMessageBody: md5 };
  };

  const store = (
    queue: Queue,
    body: string,
    md5: string,
    groupId: string | undefined,
    deduplicationId: string | undefined,
  ): StoredMessage => {
    const message: StoredMessage = {
      id: randomUUID(),
      body,
      md5,
      groupId,
      deduplicationId,
      sequenceNumber: String(sequence++),
      sentAt: Date.now(),
      receiveCount: 0,
      firstReceivedAt: undefined,
      visibleAt: 0,
      receiptHandle: undefined,
      modifications: 0,
    };
    insert(queue, message);
    return message;
  };

  const insert = (queue: Queue, message: StoredMessage): void => {
    queue.messages.set(message.id, message);
    if (!queue.fifo) return;
    const members = queue.groups.get(message.groupId);
    if (members) members.push(message);
    else queue.groups.set(message.groupId, [message]);
  };

  const remove = (queue: Queue, message: StoredMessage): void => {
    queue.messages.delete(message.id);
    if (message.receiptHandle !== undefined) queue.byHandle.delete(message.receiptHandle);
    const members = queue.groups.get(message.groupId);
    if (!members) return;
    members.splice(members.indexOf(message), 1);
    if (members.length === 0) queue.groups.delete(message.groupId);
  };

  /** Takes what a receive may have now, by the FIFO rules (see the module comment); marks it in flight. */
  const take = (queue: Queue, max: number, visibilitySeconds: number): StoredMessage[] => {
    const now = Date.now();
    const redrive = queue.attributes.RedrivePolicy
      ? (JSON.parse(queue.attributes.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number })
      : undefined;
    const taken: StoredMessage[] = [];
    const pick = (candidates: StoredMessage[]): void => {
      for (const message of candidates) {
        if (taken.length >= max) return;
        if (message.visibleAt > now || taken.includes(message)) continue;
        if (redrive && message.receiveCount >= Number(redrive.maxReceiveCount)) {
          moveToDeadLetterQueue(queue, message, redrive.deadLetterTargetArn);
          continue;
        }
        taken.push(message);
      }
    };
    if (!queue.fifo) pick([...queue.messages.values()]);
    else {
      // Each unlocked group's messages in order, as many as fit, then the next group. A group is only
      // ever handed out from its head, at most 10 at a time, so its in-flight messages are among its first 10.
      for (const members of [...queue.groups.values()]) {
        if (taken.length >= max) break;
        if (members.slice(0, 10).some((m) => m.visibleAt > now && m.receiptHandle !== undefined)) continue;
        pick(members.slice(0, 2 * max));
      }
    }
    for (const message of taken) {
      message.receiveCount++;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + visibilitySeconds * 1000;
      if (message.receiptHandle !== undefined) queue.byHandle.delete(message.receiptHandle);
      message.receiptHandle = randomUUID();
      queue.byHandle.set(message.receiptHandle, message);
    }
    return taken;
  };

  const moveToDeadLetterQueue = (queue: Queue, message: StoredMessage, dlqArn: string): void => {
    remove(queue, message);
    const dlq = [...queues.values()].find((q) => q.arn === dlqArn);
    if (dlq) insert(dlq, { ...message, visibleAt: 0, receiptHandle: undefined });
  };

  const render = (message: StoredMessage, input: Record<string, unknown>, handle: string): Record<string, unknown> => {
    const wanted = new Set([
      ...((input.MessageSystemAttributeNames as string[] | undefined) ?? []),
      ...((input.AttributeNames as string[] | undefined) ?? []),
    ]);
    const all: Record<string, string | undefined> = {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      ApproximateFirstReceiveTimestamp:
        message.firstReceivedAt === undefined ? undefined : String(message.firstReceivedAt),
      MessageGroupId: message.groupId,
      MessageDeduplicationId: message.deduplicationId,
      SequenceNumber:
        message.groupId !== undefined && message.deduplicationId !== undefined ? message.sequenceNumber : undefined,
    };
    const attributes = Object.fromEntries(
      Object.entries(all).filter(([key, value]) => value !== undefined && (wanted.has("All") || wanted.has(key))),
    );
    return {
      MessageId: message.id,
      ReceiptHandle: handle,
      MD5OfBody: message.md5,
      Body: message.body,
      ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    };
  };

  const receive = async (input: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const queue = queueOf(input);
    const max = Number(input.MaxNumberOfMessages ?? 1);
    if (!Number.isInteger(max) || max < 1 || max > 10)
      throw new SqsError("InvalidParameterValue", `MaxNumberOfMessages must be 1 to 10, got ${max}.`);
    const visibilitySeconds = Number(input.VisibilityTimeout ?? queue.attributes.VisibilityTimeout ?? 30);
    const waitMs = Number(input.WaitTimeSeconds ?? queue.attributes.ReceiveMessageWaitTimeSeconds ?? 0) * 1000;
    const attemptId =
      queue.fifo && typeof input.ReceiveRequestAttemptId === "string" ? input.ReceiveRequestAttemptId : undefined;
    if (attemptId !== undefined && voidAttemptIds.has(attemptId)) {
      refusals.push({ operation: "ReceiveMessage", code: "InvalidParameterValue", attemptId });
      throw new SqsError(
        "InvalidParameterValue",
        `Value ${attemptId} for parameter ReceiveRequestAttemptId is invalid. Reason: The receiveRequestAttemptId is not valid anymore since the receive call is not retryable.`,
      );
    }
    if (attemptId !== undefined) {
      const earlier = queue.attempts.get(attemptId);
      if (
        earlier &&
        Date.now() - earlier.at < DEDUP_WINDOW_MS &&
        earlier.messages.every((m, i) => m.modifications === earlier.modifications[i])
      ) {
        const visibleAt = Date.now() + visibilitySeconds * 1000;
        for (const message of earlier.messages) message.visibleAt = visibleAt;
        receives.push({
          queueName: queue.name,
          attemptId,
          replayed: true,
          messageIds: earlier.messages.map((m) => m.id),
        });
        return { Messages: earlier.messages.map((m, i) => render(m, input, earlier.handles[i]!)) };
      }
    }
    const until = Date.now() + waitMs;
    let taken = take(queue, max, visibilitySeconds);
    while (taken.length === 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_TICK_MS, until - Date.now())));
      taken = take(queue, max, visibilitySeconds);
    }
    if (attemptId !== undefined) {
      queue.attempts.set(attemptId, {
        at: Date.now(),
        messages: taken,
        modifications: taken.map((m) => m.modifications),
        handles: taken.map((m) => m.receiptHandle!),
      });
    }
    receives.push({ queueName: queue.name, attemptId, replayed: false, messageIds: taken.map((m) => m.id) });
    return taken.length === 0 ? {} : { Messages: taken.map((m) => render(m, input, m.receiptHandle!)) };
  };

  const batch = (
    input: Record<string, unknown>,
    each: (entry: Record<string, unknown>) => Record<string, unknown>,
  ): Record<string, unknown> => {
    const entries = (input.Entries as Record<string, unknown>[] | undefined) ?? [];
    if (entries.length === 0 || entries.length > 10)
      throw new SqsError(
        "TooManyEntriesInBatchRequest",
        "A batch takes 1 to 10 entries.",
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
      );
    const Successful: Record<string, unknown>[] = [];
    const Failed: Record<string, unknown>[] = [];
    for (const entry of entries) {
      try {
        Successful.push({ Id: entry.Id, ...each(entry) });
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: error.type, Message: error.message });
      }
    }
    return { Successful, Failed };
  };

  const operations: Record<
    string,
    (input: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>
  > = {
    CreateQueue: (input) => {
      const name = text(input.QueueName) ?? "";
      const attributes = { ...((input.Attributes as Record<string, string> | undefined) ?? {}) };
      const fifo = attributes.FifoQueue === "true";
      if (fifo !== name.endsWith(".fifo"))
        throw new SqsError(
          "InvalidParameterValue",
          "A FIFO queue's name must end in .fifo, and only a FIFO queue's name may.",
        );
      const existing = queues.get(name);
      if (existing) return { QueueUrl: existing.url };
      const url = `${endpoint}/${ACCOUNT}/${name}`;
      queues.set(name, {
        name,
        url,
        arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
        fifo,
        attributes,
        messages: new Map(),
        byHandle: new Map(),
        groups: new Map(),
        dedup: new Map(),
        attempts: new Map(),
      });
      return { QueueUrl: url };
    },
    GetQueueUrl: (input) => {
      const queue = queues.get(text(input.QueueName) ?? "");
      if (!queue)
        throw new SqsError(
          "QueueDoesNotExist",
          "The specified queue does not exist.",
          "AWS.SimpleQueueService.NonExistentQueue",
        );
      return { QueueUrl: queue.url };
    },
    GetQueueAttributes: (input) => {
      const queue = queueOf(input);
      const now = Date.now();
      const all: Record<string, string> = {
        ...queue.attributes,
        QueueArn: queue.arn,
        FifoQueue: String(queue.fifo),
        VisibilityTimeout: queue.attributes.VisibilityTimeout ?? "30",
        ApproximateNumberOfMessages: String([...queue.messages.values()].filter((m) => m.visibleAt <= now).length),
        ApproximateNumberOfMessagesNotVisible: String(
          [...queue.messages.values()].filter((m) => m.visibleAt > now).length,
        ),
      };
      if (!queue.fifo) delete all.FifoQueue;
      const names = (input.AttributeNames as string[] | undefined) ?? ["All"];
      return {
        Attributes: names.includes("All")
          ? all
          : Object.fromEntries(Object.entries(all).filter(([key]) => names.includes(key))),
      };
    },
    SendMessage: (input) => send(queueOf(input), input),
    SendMessageBatch: (input) => {
      const queue = queueOf(input);
      return batch(input, (entry) => send(queue, entry));
    },
    ReceiveMessage: receive,
    DeleteMessage: (input) => {
      deleteMessage(queueOf(input), input.ReceiptHandle);
      return {};
    },
    DeleteMessageBatch: (input) => {
      const queue = queueOf(input);
      return batch(input, (entry) => (deleteMessage(queue, entry.ReceiptHandle), {}));
    },
    ChangeMessageVisibility: (input) => {
      changeVisibility(queueOf(input), input.ReceiptHandle, input.VisibilityTimeout);
      return {};
    },
    ChangeMessageVisibilityBatch: (input) => {
      const queue = queueOf(input);
      return batch(input, (entry) => (changeVisibility(queue, entry.ReceiptHandle, entry.VisibilityTimeout), {}));
    },
  };

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const target = String(request.headers["x-amz-target"] ?? "");
      const operation = target.startsWith("AmazonSQS.") ? target.slice("AmazonSQS.".length) : target;
      let input: Record<string, unknown> = {};
      try {
        input =
          chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
      } catch {
        answer(response, 400, {
          __type: "com.amazonaws.sqs#InvalidParameterValue",
          message: "The request body is not JSON.",
        });
        return;
      }
      const served: ServedRequest = { operation, input };
      requests.push(served);
      options.onRequest?.(served);
      const run = operations[operation];
      if (options.throttle?.(served)) {
        const attemptId = typeof input.ReceiveRequestAttemptId === "string" ? input.ReceiveRequestAttemptId : undefined;
        if (operation === "ReceiveMessage" && attemptId !== undefined) voidAttemptIds.add(attemptId);
        refusals.push({ operation, code: "ThrottlingException", attemptId });
        answer(
          response,
          400,
          { __type: "com.amazonaws.sqs#ThrottlingException", message: "Rate exceeded" },
          "ThrottlingException;Sender",
        );
        return;
      }
      Promise.resolve()
        .then(() => {
          if (!run)
            throw new SqsError(
              "UnsupportedOperation",
              `The stand-in does not implement ${operation}.`,
              "AWS.SimpleQueueService.UnsupportedOperation",
            );
          return run(input);
        })
        .then(
          (output) => {
            options.alterAnswer?.(served, output);
            if (options.loseAnswer?.(served, output)) request.socket.destroy();
            else answer(response, 200, output);
          },
          (error: unknown) => {
            if (!(error instanceof SqsError)) {
              answer(response, 500, { __type: "com.amazonaws.sqs#InternalError", message: String(error) });
              return;
            }
            answer(
              response,
              400,
              { __type: `com.amazonaws.sqs#${error.type}`, message: error.message },
              `${error.queryCode};Sender`,
            );
          },
        );
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    endpoint,
    requests,
    receives,
    refusals,
    depth(queueName) {
      const now = Date.now();
      let visible = 0;
      let inFlight = 0;
      for (const message of queues.get(queueName)?.messages.values() ?? []) {
        if (message.visibleAt > now) inFlight++;
        else visible++;
      }
      return { visible, inFlight };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(response: ServerResponse, status: number, body: Record<string, unknown>, queryError?: string): void {
  if (response.destroyed) return;
  response.writeHead(status, {
    "content-type": "application/x-amz-json-1.0",
    "x-amzn-requestid": randomUUID(),
    ...(queryError ? { "x-amzn-query-error": queryError } : {}),
  });
  response.end(JSON.stringify(body));
}

/** A string (or number) field of a request, as text; anything else counts as absent. */
function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

/**
 * Faults a receive loop must not hide (receive-loop.ts) and the SDK retry the FIFO attempt id cannot
 * survive (receive-throttling.ts), checked on the units themselves with a stubbed SQS client.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReceiveMessageCommand, DeleteMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import { Capacity } from "../src/capacity";
import { Metrics } from "../src/metrics";
import { Readiness, type OpenReceive } from "../src/readiness";
import { ReceiveLoops } from "../src/receive-loop";
import { ReceiveThrottledError, throttledReceivesAreNotRetried } from "../src/receive-throttling";
import { classifyAwsError } from "../src/errors";
import { parseSettings } from "../src/settings";
import { ConsumerTracing } from "../src/tracing";
import { LogCapture } from "./helpers/log-capture";

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders";

test("a receive loop that ends before shutdown is logged, and /livez and /readyz fail", async () => {
  const parsed = parseSettings({ QUEUE_URL, RECEIVE_LOOPS: "1", HANDLER_CONCURRENCY: "2" });
  assert.ok(parsed.ok);
  const settings = parsed.value;
  const logs = new LogCapture();
  const metrics = new Metrics();
  const receiving = new AbortController();
  // Read only once the loops run, as the consumer wires it.
  const readiness = new Readiness(logs.logger, metrics, (): Iterable<OpenReceive> => loops.open);
  const message: Message = { MessageId: "m1", ReceiptHandle: "r1", Body: "b" };
  const sqs = { send: () => Promise.resolve({ Messages: [message] }) } as unknown as SQSClient;
  const loops: ReceiveLoops = new ReceiveLoops({
    settings,
    sqs,
    metrics,
    hints: { queueUrl: QUEUE_URL, region: "eu-west-1" },
    logger: logs.logger,
    capacity: new Capacity(settings.handlerConcurrency),
    readiness,
    tracing: new ConsumerTracing(QUEUE_URL),
    fifo: false,
    receiving: receiving.signal,
    onReceived: () => {
      throw new Error("dispatch broke");
    },
  });
  loops.start();
  try {
    await logs.waitFor((l) => l.event === "receive-loop-ended", 5_000, "receive-loop-ended");
    assert.equal(loops.live, false);
    assert.match(loops.reason, /dispatch broke/);
    assert.equal(readiness.ready, false);
    assert.match(readiness.reason, /receive loop ended.*dispatch broke/);
    readiness.succeeded();
    assert.equal(readiness.ready, false, "a later successful call made a consumer that no longer receives ready again");
  } finally {
    receiving.abort();
    await loops.ended();
  }
});

test("a receive loop that ends at shutdown is no fault", async () => {
  const parsed = parseSettings({ QUEUE_URL, RECEIVE_LOOPS: "2", HANDLER_CONCURRENCY: "2" });
  assert.ok(parsed.ok);
  const logs = new LogCapture();
  const metrics = new Metrics();
  const receiving = new AbortController();
  const capacity = new Capacity(2);
  const sqs = {
    send: (_c: unknown, o: { abortSignal: AbortSignal }) =>
      new Promise((_r, reject) => o.abortSignal.addEventListener("abort", () => reject(new Error("aborted")))),
  } as unknown as SQSClient;
  const readiness = new Readiness(logs.logger, metrics);
  const loops = new ReceiveLoops({
    settings: parsed.value,
    sqs,
    metrics,
    hints: { queueUrl: QUEUE_URL, region: "eu-west-1" },
    logger: logs.logger,
    capacity,
    readiness,
    tracing: new ConsumerTracing(QUEUE_URL),
    fifo: false,
    receiving: receiving.signal,
    onReceived: () => undefined,
  });
  loops.start();
  await new Promise((resolve) => setTimeout(resolve, 50));
  readiness.stopping();
  capacity.close();
  receiving.abort();
  loops.hangUp();
  await loops.ended();
  assert.equal(loops.live, true);
  assert.deepEqual(
    logs.find((l) => l.event === "receive-loop-ended"),
    [],
  );
});

/** An SQS client whose every HTTP attempt is answered by `answer`; counts the attempts. */
function stubbedClient(answer: () => { status: number; body: unknown; headers?: Record<string, string> }): {
  client: SQSClient;
  attempts: () => number;
} {
  let attempts = 0;
  const client = new SQSClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 3,
    requestHandler: {
      handle: () => {
        attempts++;
        const { status, body, headers = {} } = answer();
        const bytes = Buffer.from(JSON.stringify(body));
        return Promise.resolve({
          response: {
            statusCode: status,
            reason: "",
            headers: { "content-type": "application/x-amz-json-1.0", ...headers },
            body: new Uint8Array(bytes),
          },
        });
      },
    } as never,
  });
  client.middlewareStack.use(throttledReceivesAreNotRetried);
  return { client, attempts: () => attempts };
}

const throttled = () => ({
  status: 400,
  body: { __type: "com.amazonaws.sqs#ThrottlingException", message: "Rate exceeded" },
  headers: { "x-amzn-query-error": "ThrottlingException;Sender" },
});

test("a throttled receive with an attempt id is not retried by the SDK, and is still classified as throttling", async () => {
  const { client, attempts } = stubbedClient(throttled);
  const error = await client
    .send(new ReceiveMessageCommand({ QueueUrl: `${QUEUE_URL}.fifo`, ReceiveRequestAttemptId: "a1" }))
    .then(
      () => assert.fail("the receive succeeded"),
      (e: unknown) => e,
    );
  assert.equal(attempts(), 1, "the SDK retried a throttled receive with its voided attempt id");
  assert.ok(error instanceof ReceiveThrottledError);
  assert.equal(classifyAwsError(error, { queueUrl: QUEUE_URL, region: "eu-west-1" }).kind, "throttling");
});

test("throttling of other calls, and of receives without an attempt id, keeps the SDK's retries", async () => {
  for (const command of [
    new ReceiveMessageCommand({ QueueUrl: QUEUE_URL }),
    new DeleteMessageCommand({ QueueUrl: QUEUE_URL, ReceiptHandle: "r" }),
  ]) {
    const { client, attempts } = stubbedClient(throttled);
    await assert.rejects(client.send(command as never), (e: Error) => e.name === "ThrottlingException");
    assert.equal(attempts(), 3, `${command.constructor.name}: not retried`);
  }
});

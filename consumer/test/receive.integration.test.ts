import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { Capacity } from "../src/handle";
import { Readiness } from "../src/health";
import { ReceiveLoops } from "../src/receive";
import { parseSettings } from "../src/settings";
import { createSqsClient } from "../src/sqs-client";
import { testContext } from "./helpers/context";
import { eventually } from "./helpers/queue";

const WAIT_SECONDS = 4;
const SLOW_FAILURE_MS = 1_500;

/**
 * An SQS stand-in for ReceiveMessage only: the first receive answers empty at once (the consumer
 * becomes ready), the second fails with a 500 after SLOW_FAILURE_MS, and every later one is a long
 * poll that never answers within the test. Records when each receive arrived.
 */
async function receiveStandIn(): Promise<{ server: Server; endpoint: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      const n = arrivals.push(Date.now());
      const reply = (status: number, body: unknown) => {
        if (response.destroyed) return;
        response.writeHead(status, { "content-type": "application/x-amz-json-1.0" }).end(JSON.stringify(body));
      };
      if (n === 1) reply(200, {});
      else if (n === 2)
        setTimeout(
          () => reply(500, { __type: "com.amazonaws.sqs#InternalError", message: "try again" }),
          SLOW_FAILURE_MS,
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, arrivals };
}

describe("receive attempts: an SDK retry is a new long poll", () => {
  const closers: (() => void)[] = [];
  after(() => closers.forEach((close) => close()));

  test("a receive whose first attempt fails and whose retry long-polls: its end is reckoned from the retry", async () => {
    const stand = await receiveStandIn();
    closers.push(() => stand.server.close());
    closers.push(() => stand.server.closeAllConnections());
    const env = {
      QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/attempts",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_SQS: stand.endpoint,
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "y",
      RECEIVE_LOOPS: "1",
      WAIT_TIME_SECONDS: String(WAIT_SECONDS),
    };
    for (const key of ["AWS_ENDPOINT_URL_SQS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const)
      process.env[key] = env[key];
    const parsed = parseSettings(env);
    assert.ok(parsed.ok);
    const settings = parsed.value;
    const sqs = createSqsClient(settings, env);
    closers.push(() => sqs.destroy());
    const { ctx, logs, metrics, stop } = testContext(sqs, { env });
    const capacity = new Capacity(settings.handlerConcurrency);
    // eslint-disable-next-line prefer-const -- readiness and the loops refer to each other
    let loops: ReceiveLoops;
    const readiness = new Readiness(logs.logger, metrics, () => loops.open);
    loops = new ReceiveLoops(ctx, capacity, readiness, () => assert.fail("the stand-in sends no message"));
    loops.start();
    try {
      await eventually(() => stand.arrivals.length === 3, 10_000, "the retried attempt");
      const retryArrivedAt = stand.arrivals[2]!;
      // The attempt is stamped just before it is sent; the stand-in sees it a moment later.
      const slack = 250;
      const [open] = [...loops.open];
      assert.ok(open !== undefined, "the retried receive is open");
      assert.ok(
        open.endsAt >= retryArrivedAt + WAIT_SECONDS * 1000 - slack,
        `the open receive ends ${retryArrivedAt + WAIT_SECONDS * 1000 - open.endsAt} ms before its retried long poll does`,
      );
      assert.equal(readiness.ready, true, readiness.reason);
      loops.hangUp();
      assert.ok(
        loops.hungUpReceivesEndAt >= retryArrivedAt + WAIT_SECONDS * 1000 - slack,
        "a visibility change after the hang-up could reach SQS while the retried poll still runs",
      );
    } finally {
      stop();
      loops.hangUp();
      await loops.ended();
    }
  });
});

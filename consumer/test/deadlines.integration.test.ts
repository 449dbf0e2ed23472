import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EmulatorApp } from "../local/emulator";
import { buildBundle, killConsumers, probe, spawnConsumer, type ConsumerProcess } from "./helpers/consumer-process";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { SilentServer } from "./helpers/silent-server";
import { CREDENTIAL_REFRESH_FLOOR_MS, DEADLINES } from "../src/sqs-client";
import { StsStandIn } from "./helpers/sts-stand-in";
import { TcpProxy } from "./helpers/tcp-proxy";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

const ROLE_ARN = "arn:aws:iam::123456789012:role/sqs-eks-consumer-dev";
const fixture = join(__dirname, "fixtures", "slow-consumer.ts");

/** Sends SIGTERM and returns the exit code and how long the exit took (ms). */
async function terminate(consumer: ConsumerProcess): Promise<{ code: number | null; tookMs: number }> {
  const signalledAt = Date.now();
  consumer.child.kill("SIGTERM");
  const exit = await consumer.exited;
  return { code: exit.code, tookMs: exit.at - signalledAt };
}

/** Slack for a loaded 2-core machine on top of a promised bound; the bound itself is what is asserted. */
const SLACK_MS = 1_500;

// A silent EKS Pod Identity Agent is tested with the agent's other troubles (pod-identity.integration.test.ts).
describe("deadlines: a credential source that accepts and never answers", () => {
  let bed: TestBed;
  let bundle: string;
  let silent: SilentServer;
  let tokenFile: string;
  before(() => (bundle = buildBundle()));
  beforeEach(async () => {
    bed = await startTestBed();
    silent = new SilentServer();
    await silent.start();
    tokenFile = join(mkdtempSync(join(tmpdir(), "irsa-")), "token");
    writeFileSync(tokenFile, "token-1");
  });
  afterEach(async () => {
    await killConsumers();
    await silent.stop();
    await bed.close();
  });

  function withoutStaticKeys(): Record<string, string> {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...env } = bed.env;
    return env;
  }

  test("IRSA with a silent STS: a credentials error with a hint, not ready, and SIGTERM exits 0 within the budget", async () => {
    const consumer = spawnConsumer(bundle, {
      ...withoutStaticKeys(),
      AWS_ROLE_ARN: ROLE_ARN,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ENDPOINT_URL_STS: silent.endpoint,
      WAIT_TIME_SECONDS: "5",
      SHUTDOWN_BUDGET_SECONDS: "5",
    });
    const port = await consumer.healthPort();
    const warning = await consumer.waitFor((l) => l.event === "aws-error", 25_000, "an error for the silent STS");
    assert.equal(warning.kind, "credentials");
    assert.equal(warning.code, "CredentialsStalled");
    assert.match(String(warning.hint), /did not answer within 10 s \(STS, for the web identity token/);
    assert.ok(silent.accepted > 0, "STS was never called");
    assert.equal((await probe(port, "/readyz")).status, 503);
    const exit = await terminate(consumer);
    assert.equal(exit.code, 0);
    assert.ok(exit.tookMs <= 5_000 + SLACK_MS, `exit took ${exit.tookMs} ms, budget 5000`);
  });

  test("STS stalls at a refresh after a first success: an error once the credentials run out, then recovery when STS answers again", async () => {
    // 10 s: inside the SDK's 5-minute refresh window at once, so the consumer asks STS again at most once
    // per CREDENTIAL_REFRESH_FLOOR_MS (a floor that keeps a skewed clock from asking before every request);
    // the first refresh after the floor stalls, and its deadline ends it with an error.
    const sts = new StsStandIn({ roleArn: ROLE_ARN, tokenFile, lifetimeSeconds: 10 });
    await sts.start();
    try {
      const consumer = spawnConsumer(bundle, {
        ...withoutStaticKeys(),
        AWS_ROLE_ARN: ROLE_ARN,
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ENDPOINT_URL_STS: sts.endpoint,
        WAIT_TIME_SECONDS: "1",
      });
      const port = await consumer.healthPort();
      await eventually(async () => (await probe(port, "/readyz")).status === 200, 15_000, "ready");
      sts.stalled = true;
      const warning = await consumer.waitFor(
        (l) => l.event === "aws-error" && l.code === "CredentialsStalled",
        CREDENTIAL_REFRESH_FLOOR_MS + DEADLINES.credentialsMs + 20_000,
        "the stalled refresh",
      );
      assert.equal(warning.kind, "credentials");
      assert.equal((await probe(port, "/readyz")).status, 503);
      sts.stalled = false;
      await eventually(async () => (await probe(port, "/readyz")).status === 200, 40_000, "ready once STS answers");
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["after the stall"]);
      await consumer.waitFor((l) => l.body === "after the stall", 15_000, "the message");
      assert.equal((await terminate(consumer)).code, 0);
    } finally {
      await sts.stop();
    }
  });
});

describe("deadlines: SQS accepts a request and never answers", () => {
  let bed: TestBed;
  let proxy: TcpProxy;
  beforeEach(async () => {
    bed = await startTestBed();
    proxy = new TcpProxy(bed.emulator.port);
    await proxy.start();
  });
  afterEach(async () => {
    await proxy.stop();
    await bed.close();
  });

  for (const loops of ["1", "2"]) {
    test(`ReceiveMessage stalls (RECEIVE_LOOPS=${loops}, WAIT_TIME_SECONDS=2): not ready, a network error naming the stall, and receiving again once SQS answers`, async () => {
      const { running, logs } = await startTestConsumer(bed, {
        env: { AWS_ENDPOINT_URL_SQS: proxy.endpoint, RECEIVE_LOOPS: loops, WAIT_TIME_SECONDS: "2" },
      });
      const readyz = async () => (await fetch(`http://127.0.0.1:${running.healthPort}/readyz`)).status;
      try {
        await eventually(async () => (await readyz()) === 200, 10_000, "ready");
        await sendMessages(bed.sqs, bed.queue.queueUrl, ["before"]);
        await logs.waitFor((l) => l.body === "before", 10_000, "the first message");
        await eventually(
          async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
          10_000,
          "its delete",
        );

        proxy.stalled = true;
        await eventually(async () => (await readyz()) === 503, 20_000, "not ready while receives stall");
        const warning = await logs.waitFor((l) => l.event === "aws-error", 20_000, "the stall error");
        assert.equal(warning.operation, "ReceiveMessage");
        assert.equal(warning.kind, "network");
        assert.equal(warning.code, "RequestStalled");
        assert.match(String(warning.hint), /accepted the request but did not answer before the call's deadline/);

        proxy.stalled = false;
        await sendMessages(bed.sqs, bed.queue.queueUrl, ["after"]);
        await logs.waitFor((l) => l.body === "after", 30_000, "a message after the stall");
        await eventually(async () => (await readyz()) === 200, 10_000, "ready again");
      } finally {
        await running.stop();
      }
    });
  }

  test("DeleteMessageBatch stalls: the delete is retried after its deadline and the message is handled once", async () => {
    await bed.close();
    let stallDeletes = true;
    bed = await startTestBed({ configure: stallOperation("DeleteMessageBatch", () => stallDeletes) });
    const handled: string[] = [];
    const { running } = await startTestConsumer(bed, {
      env: { WAIT_TIME_SECONDS: "2", VISIBILITY_TIMEOUT_SECONDS: "60" },
      handler: (m) => Promise.resolve(void handled.push(m.body)),
    });
    try {
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["one"]);
      await eventually(() => handled.length === 1, 10_000, "the message");
      await eventually(
        async () =>
          /sqs_consumer_errors_total\{kind="network",operation="DeleteMessageBatch"\} [1-9]/.test(
            await (await fetch(`http://127.0.0.1:${running.healthPort}/metrics`)).text(),
          ),
        20_000,
        "the stalled delete to fail",
      );
      stallDeletes = false;
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
        20_000,
        "the delete",
      );
      assert.deepEqual(handled, ["one"]);
    } finally {
      await running.stop();
    }
  });
});

describe("deadlines: shutdown has a hard end", () => {
  let bed: TestBed;
  afterEach(async () => {
    await killConsumers();
    await bed.close();
  });

  test("ChangeMessageVisibilityBatch stalls while shutdown changes the visibility of unfinished messages: exit 0 within the budget", async () => {
    bed = await startTestBed({ configure: stallOperation("ChangeMessageVisibilityBatch", () => true) });
    await sendMessages(bed.sqs, bed.queue.queueUrl, ["a", "b"]);
    const consumer = spawnConsumer(fixture, {
      ...bed.env,
      HANDLER_DELAY_MS: "60000",
      SHUTDOWN_BUDGET_SECONDS: "3",
      WAIT_TIME_SECONDS: "1",
    });
    const port = await consumer.healthPort();
    await eventually(
      async () => /^sqs_consumer_messages_in_flight 2$/m.test((await probe(port, "/metrics")).body),
      10_000,
      "2 handlers running",
    );
    const exit = await terminate(consumer);
    assert.equal(exit.code, 0);
    assert.ok(exit.tookMs <= 3_000 + SLACK_MS, `exit took ${exit.tookMs} ms, budget 3000`);
    // Either the change gives up at the end of the budget (its own deadline) or the hard end stops the process: both are logged.
    assert.ok(
      consumer.lines.some(
        (l) => l.event === "shutdown-deadline" || (l.event === "visibility-failed" && l.reason === "shutdown"),
      ),
      "neither the change's deadline nor the hard end was logged",
    );
  });
});

/** An emulator hook: requests for `operation` are read and never answered while `when()` is true. */
function stallOperation(operation: string, when: () => boolean) {
  return (app: EmulatorApp): void => {
    app.addHook("preHandler", (request, _reply, done) => {
      if (request.headers["x-amz-target"] === `AmazonSQS.${operation}` && when()) return;
      done();
    });
  };
}

after(() => killConsumers());

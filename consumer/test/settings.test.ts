import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_TUNABLES,
  TUNABLES,
  TUNABLE_KEYS,
  isFifoQueueUrl,
  parseSettings,
  queueVisibilityTimeoutSeconds,
  renderSettingsEnv,
  renderTunablesEnv,
  validateTunables,
  type Settings,
} from "../src/settings";

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders";

test("defaults apply and the region comes from the queue URL", () => {
  const result = parseSettings({ QUEUE_URL });
  assert.ok(result.ok);
  assert.deepEqual(result.value, { ...DEFAULT_TUNABLES, queueUrl: QUEUE_URL, region: "eu-west-1" });
});

test("render then parse is the identity, for defaults and for every limit", () => {
  const variants: Settings[] = [{ ...DEFAULT_TUNABLES, queueUrl: QUEUE_URL, region: "eu-west-1" }];
  for (const key of TUNABLE_KEYS) {
    const spec = TUNABLES[key];
    if (spec.kind === "int") {
      for (const n of [spec.min, spec.max]) {
        const t = { ...DEFAULT_TUNABLES, [key]: n };
        if (t.retryMaxSeconds < t.retryBaseSeconds) continue;
        // A batch above one receive needs a window (a rule of its own, tested below).
        if (key === "batchSize" && n > 10) t.batchWindowSeconds = 1;
        variants.push({ ...t, queueUrl: QUEUE_URL, region: "eu-west-1" });
      }
    } else {
      for (const v of spec.values)
        variants.push({ ...DEFAULT_TUNABLES, [key]: v, queueUrl: QUEUE_URL, region: "eu-west-1" });
    }
  }
  for (const settings of variants) {
    const parsed = parseSettings(renderSettingsEnv(settings));
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.deepEqual(parsed.value, settings);
  }
});

test("every problem is reported at once, named by variable, in schema order", () => {
  const result = parseSettings({
    AWS_REGION: "mars",
    WAIT_TIME_SECONDS: "21",
    MAX_MESSAGES: "ten",
    HANDLER_CONCURRENCY: "0",
    LOG_LEVEL: "loud",
    HEALTH_PORT: "8080.5",
  });
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.deepEqual(
    result.problems.map((p) => p.key),
    ["QUEUE_URL", "AWS_REGION", "WAIT_TIME_SECONDS", "MAX_MESSAGES", "HANDLER_CONCURRENCY", "LOG_LEVEL", "HEALTH_PORT"],
  );
  assert.match(result.problems[2]!.reason, /between 0 and 20 s, got 21/);
  assert.match(result.problems[3]!.reason, /whole number of messages, got "ten"/);
  assert.match(result.problems[5]!.reason, /one of fatal, error, warn, info, debug, trace, silent/);
});

test("queue URL shape and region are checked; a queue in another region than AWS_REGION is signed for its own region", () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ QUEUE_URL: "not a url" }, "QUEUE_URL", /is not a URL/],
    [{ QUEUE_URL: "ftp://sqs.eu-west-1.amazonaws.com/1/q" }, "QUEUE_URL", /http\(s\)/],
    [{ QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/q" }, "QUEUE_URL", /\/<account-id>\/<queue-name>/],
    [{ QUEUE_URL, AWS_REGION: "us-east" }, "AWS_REGION", /not an AWS region name/],
    [{ QUEUE_URL: "http://127.0.0.1:4566/000000000000/q" }, "AWS_REGION", /required/],
  ];
  for (const [env, key, reason] of cases) {
    const result = parseSettings(env);
    assert.ok(!result.ok, JSON.stringify(env));
    assert.deepEqual(
      result.problems.map((p) => p.key),
      [key],
    );
    assert.match(result.problems[0]!.reason, reason);
  }
  const local = parseSettings({ QUEUE_URL: "http://127.0.0.1:4566/000000000000/q", AWS_REGION: "us-east-1" });
  assert.ok(local.ok);
  assert.equal(local.value.region, "us-east-1");
  // The EKS webhook sets AWS_REGION to the cluster's region; a queue in another region is signed for its own.
  const crossRegion = parseSettings({ QUEUE_URL, AWS_REGION: "us-east-1" });
  assert.ok(crossRegion.ok, JSON.stringify(crossRegion));
  assert.equal(crossRegion.value.region, "eu-west-1");
});

test("retry bounds are checked against each other", () => {
  const result = parseSettings({ QUEUE_URL, RETRY_BASE_SECONDS: "30", RETRY_MAX_SECONDS: "10" });
  assert.ok(!result.ok);
  assert.deepEqual(result.problems, [{ key: "RETRY_MAX_SECONDS", reason: "10 is below RETRY_BASE_SECONDS (30)" }]);
});

test("rules across variables are judged whatever else is wrong: every bad variable is named at once", () => {
  const parsed = parseSettings({
    QUEUE_URL,
    BATCH_SIZE: "100",
    HANDLER_TIMEOUT_SECONDS: "abc",
    RETRY_BASE_SECONDS: "10",
    RETRY_MAX_SECONDS: "5",
  });
  assert.equal(parsed.ok, false);
  assert.deepEqual(
    (parsed.ok ? [] : parsed.problems).map((p) => p.key),
    ["HANDLER_TIMEOUT_SECONDS", "RETRY_MAX_SECONDS", "BATCH_SIZE"],
  );
  // A variable that is itself bad is not judged against another.
  const bad = parseSettings({ QUEUE_URL, BATCH_SIZE: "lots", RETRY_BASE_SECONDS: "x", RETRY_MAX_SECONDS: "5" });
  assert.deepEqual(
    (bad.ok ? [] : bad.problems).map((p) => p.key),
    ["BATCH_SIZE", "RETRY_BASE_SECONDS"],
  );
});

test("batch size and window: Lambda's limits (BatchSize 1-10,000, a window of 0-300 s, at least 1 s above 10)", () => {
  // Lambda developer guide, "Lambda parameters for Amazon SQS event source mappings"; Lambda API reference,
  // CreateEventSourceMapping: BatchSize 1-10000, MaximumBatchingWindowInSeconds 0-300.
  const accepted = [
    { BATCH_SIZE: "1" },
    { BATCH_SIZE: "10" },
    { BATCH_SIZE: "10000", BATCH_WINDOW_SECONDS: "1" },
    { BATCH_SIZE: "11", BATCH_WINDOW_SECONDS: "300" },
  ];
  for (const env of accepted) assert.ok(parseSettings({ QUEUE_URL, ...env }).ok, JSON.stringify(env));
  const refused: [Record<string, string>, string, RegExp][] = [
    [{ BATCH_SIZE: "0" }, "BATCH_SIZE", /between 1 and 10000 messages/],
    [{ BATCH_SIZE: "10001", BATCH_WINDOW_SECONDS: "5" }, "BATCH_SIZE", /between 1 and 10000 messages/],
    [{ BATCH_WINDOW_SECONDS: "301" }, "BATCH_WINDOW_SECONDS", /between 0 and 300 s/],
    [{ BATCH_SIZE: "11" }, "BATCH_SIZE", /11 needs BATCH_WINDOW_SECONDS of at least 1 s/],
  ];
  for (const [env, key, reason] of refused) {
    const result = parseSettings({ QUEUE_URL, ...env });
    assert.ok(!result.ok, JSON.stringify(env));
    assert.deepEqual(
      result.problems.map((p) => p.key),
      [key],
    );
    assert.match(result.problems[0]!.reason, reason);
  }
  // At preview, through the contract: the stack's consumer block, named by config key, rendered to the env.
  const preview = validateTunables({ batchSize: 100 }, "consumer.");
  assert.ok(!preview.ok);
  assert.deepEqual(
    preview.problems.map((p) => p.key),
    ["consumer.batchSize"],
  );
  assert.match(preview.problems[0]!.reason, /needs consumer\.batchWindowSeconds of at least 1 s/);
  const deployed = validateTunables({ batchSize: 100, batchWindowSeconds: 5 });
  assert.ok(deployed.ok);
  assert.equal(renderTunablesEnv(deployed.value).BATCH_SIZE, "100");
  assert.equal(renderTunablesEnv(deployed.value).BATCH_WINDOW_SECONDS, "5");
});

test("validateTunables names config keys, rejects unknown keys and accepts numbers", () => {
  const ok = validateTunables({ handlerTimeoutSeconds: 120, logLevel: "debug", receiveLoops: "4" });
  assert.ok(ok.ok);
  assert.equal(ok.value.handlerTimeoutSeconds, 120);
  assert.equal(ok.value.receiveLoops, 4);
  assert.deepEqual(renderTunablesEnv(ok.value).HANDLER_TIMEOUT_SECONDS, "120");

  const bad = validateTunables({ handlerTimeoutSeconds: 1.5, waitTimeSecs: 10, logLevel: 3 }, "consumer.");
  assert.ok(!bad.ok);
  assert.deepEqual(
    bad.problems.map((p) => p.key),
    ["consumer.handlerTimeoutSeconds", "consumer.logLevel", "consumer.waitTimeSecs"],
  );
  assert.match(bad.problems[2]!.reason, /unknown setting/);
});

test("the queue's visibility timeout follows the handler timeout, capped at 12 hours", () => {
  assert.equal(queueVisibilityTimeoutSeconds({ handlerTimeoutSeconds: 60 }), 70);
  assert.equal(queueVisibilityTimeoutSeconds({ handlerTimeoutSeconds: 43_000 }), 43_010);
  assert.equal(queueVisibilityTimeoutSeconds({ handlerTimeoutSeconds: 43_195 }), 43_200);
});

test("a queue is FIFO by its .fifo name", () => {
  assert.equal(isFifoQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo"), true);
  assert.equal(isFifoQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/orders"), false);
  assert.equal(isFifoQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/fifo"), false);
});

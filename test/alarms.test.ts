/**
 * The alarms' pure part (infra/alarms.ts): the oldest-message threshold derived from the consumer's and
 * the queue's settings. The alarms under Pulumi mocks are in alarms.integration.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_TUNABLES } from "../consumer/src/contract";
import { oldestMessageAgeThresholdSeconds } from "../infra/alarms";
import { valid } from "./config/helpers";

describe("oldestMessageAgeThresholdSeconds: an alarm that can fire at the extremes of the allowed settings", () => {
  it("derives from the handler timeout and maxReceiveCount, and stays a minute below the queue's retention", () => {
    // Defaults: visibility 70 s (60 s handler + 10 s margin), retry delay at most 60 s: 5 x 70 + 300.
    assert.equal(oldestMessageAgeThresholdSeconds(DEFAULT_TUNABLES, 5, 345_600), 650);
    assert.equal(
      oldestMessageAgeThresholdSeconds({ handlerTimeoutSeconds: 43_000, retryMaxSeconds: 60 }, 1_000, 1_209_600),
      1_209_540,
      "a minute below the queue's retention, where it can still fire",
    );
  });

  // ApproximateAgeOfOldestMessage cannot exceed the queue's retention: SQS deletes a message that old
  // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
  it("the derived threshold at the smallest settings is a sane number of seconds", () => {
    assert.equal(
      oldestMessageAgeThresholdSeconds({ handlerTimeoutSeconds: 1, retryMaxSeconds: 0 }, 1, 60),
      1,
      "retention 60 s: at least 1 s",
    );
  });

  it("the derived threshold stays below the queue's own retention (default 4 days), not only below 14 days", () => {
    const config = valid({
      "sqs-eks-consumer:maxReceiveCount": "1000",
      "sqs-eks-consumer:consumer": JSON.stringify({ handlerTimeoutSeconds: 3_600 }),
    });
    const threshold = oldestMessageAgeThresholdSeconds(
      config.tunables,
      config.queue.maxReceiveCount,
      config.queue.messageRetentionSeconds,
    );
    assert.ok(
      threshold < config.queue.messageRetentionSeconds,
      `threshold ${threshold} s, retention ${config.queue.messageRetentionSeconds} s`,
    );
  });
});

/**
 * Attacks on the program's side of issue 15, as a new user would meet them from docs/OBSERVABILITY.md:
 * OTLP endpoints per stack that the consumer would mangle or that leak a secret, age-alarm thresholds
 * that can never fire at the extremes of the allowed settings, subscription addresses, and
 * `npm run redrive` usage mistakes.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseTracingConfig, renderTracingEnv } from "../consumer/src/tracing-config";
import { oldestMessageAgeThresholdSeconds } from "../infra/alarms";
import { k, parse, problems, valid } from "./config/helpers";

describe("otlpEndpoint per stack", () => {
  it("http and https base URLs, with or without a path, reach the consumer as <url>/v1/traces", () => {
    for (const [endpoint, traces] of [
      ["http://otel-collector.observability:4318", "http://otel-collector.observability:4318/v1/traces"],
      ["https://otel.example.com", "https://otel.example.com/v1/traces"],
      ["https://otel.example.com/tenant-a/", "https://otel.example.com/tenant-a/v1/traces"],
    ]) {
      const config = valid({ "sqs-eks-consumer:otlpEndpoint": endpoint! });
      const parsed = parseTracingConfig(
        renderTracingEnv(config.telemetry.otlpEndpoint!, config.telemetry.otlpProtocol, "dev"),
      );
      assert.ok(parsed.ok && parsed.value, endpoint);
      assert.equal(parsed.value.endpoint, traces, endpoint);
    }
  });

  it("not OTLP/HTTP URLs: refused at preview, naming the key", () => {
    for (const bad of ["grpc://otel:4317", "otel:4318", "//otel:4318", "http://", "ftp://otel"]) {
      assert.match(problems({ "sqs-eks-consumer:otlpEndpoint": bad }).get(k("otlpEndpoint")) ?? "", /http/, bad);
    }
  });

  // The consumer appends /v1/traces to the base URL (the OTLP exporter specification): a query or a
  // fragment would swallow it ("http://otel:4318?tenant=a/v1/traces" posts to "/"), and user:password
  // in the URL would put a credential in the Deployment's plain env, readable by anyone who can read it.
  for (const [what, bad] of [
    ["a query", "http://otel:4318?tenant=a"],
    ["a fragment", "http://otel:4318#x"],
    ["credentials", "https://user:secret@otel.example.com"],
  ]) {
    it(`an endpoint with ${what} is refused at preview`, () => {
      assert.ok(problems({ "sqs-eks-consumer:otlpEndpoint": bad! }).has(k("otlpEndpoint")), bad);
    });
  }

  it("otlpProtocol without otlpEndpoint, or an unknown protocol, is named", () => {
    assert.ok(
      problems({ "sqs-eks-consumer:otlpEndpoint": "http://otel:4318", "sqs-eks-consumer:otlpProtocol": "grpc" }).has(
        k("otlpProtocol"),
      ),
    );
    const alone = parse({ "sqs-eks-consumer:otlpProtocol": "http/json" });
    const named = alone.ok ? alone.warnings.map((w) => w.key) : alone.problems.map((p) => p.key);
    assert.ok(named.includes(k("otlpProtocol")), JSON.stringify(alone));
  });
});

describe("the oldest-message alarm can fire at the extremes of the allowed settings", () => {
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

  it("an alarmMessageAgeSeconds at or above messageRetentionSeconds is refused, naming it", () => {
    const found = problems({ "sqs-eks-consumer:alarmMessageAgeSeconds": "345600" });
    assert.match(found.get(k("alarmMessageAgeSeconds")) ?? "", /messageRetentionSeconds/);
    assert.ok(valid({ "sqs-eks-consumer:alarmMessageAgeSeconds": "345599" }));
    assert.ok(
      valid({
        "sqs-eks-consumer:alarmMessageAgeSeconds": "400000",
        "sqs-eks-consumer:messageRetentionSeconds": "1209600",
      }),
    );
  });
});

describe("alarm subscriptions", () => {
  it("malformed addresses are named, each of them", () => {
    const bad = ["oncall", "oncall@", "@example.com", "on call@example.com", "oncall@example", "a@b@example.com", ""];
    const reason =
      problems({ "sqs-eks-consumer:alarmEmails": JSON.stringify(["ok@example.com", ...bad]) }).get(k("alarmEmails")) ??
      "";
    for (const address of bad) assert.ok(reason.includes(JSON.stringify(address)), `${address} in ${reason}`);
  });

  it("alarmEmails given as a single string, not a list, is refused", () => {
    assert.ok(problems({ "sqs-eks-consumer:alarmEmails": "oncall@example.com" }).has(k("alarmEmails")));
  });
});

const redriveScript = join(__dirname, "..", "scripts", "redrive.ts");

function redrive(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", redriveScript, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "x",
      AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:1",
      AWS_MAX_ATTEMPTS: "1",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stderr })));
}

describe("npm run redrive usage", () => {
  for (const [what, args] of [
    ["a DLQ URL without --dlq", ["https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq"]],
    ["an empty --rate", ["--dlq", "q", "--rate", ""]],
    ["a fractional --rate", ["--dlq", "q", "--rate", "2.5"]],
    ["--rate above 500", ["--dlq", "q", "--rate", "501"]],
    ["an unknown option", ["--dlq", "q", "--rate-limit", "5"]],
    ["a --to that is an SNS topic ARN", ["--dlq", "q", "--to", "arn:aws:sns:us-east-1:123456789012:orders"]],
  ] as const) {
    it(`${what}: exit 64 before any call`, async () => {
      const run = await redrive([...args]);
      assert.equal(run.code, 64, run.stderr);
      assert.match(run.stderr, /usage: npm run redrive/);
    });
  }
});

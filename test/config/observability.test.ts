/**
 * The observability concern (infra/config/observability.ts): alarm subscriptions and thresholds, the OTLP
 * endpoint the consumer exports traces to, and the Prometheus Operator flag.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTracingConfig, renderTracingEnv } from "../../consumer/src/tracing-config";
import { parseStackConfig } from "../../infra/config";
import { k, problems, valid } from "./helpers";

describe("parseStackConfig: alarms and telemetry", () => {
  it("names every bad key", () => {
    const result = parseStackConfig({
      project: "sqs-eks-consumer",
      stack: "dev",
      values: {
        "sqs-eks-consumer:alarmEmails": JSON.stringify(["oncall@example.com", "not-an-address", "oncall@example.com"]),
        "sqs-eks-consumer:alarmMaxReplicasMinutes": "0",
        "sqs-eks-consumer:otlpEndpoint": "otel-collector:4318",
        "sqs-eks-consumer:otlpProtocol": "grpc",
        "sqs-eks-consumer:prometheusOperator": "yes",
      },
    });
    assert.equal(result.ok, false);
    const keys = !result.ok ? result.problems.map((p) => p.key) : [];
    for (const key of [
      "alarmMaxReplicasMinutes",
      "alarmEmails",
      "otlpEndpoint",
      "otlpProtocol",
      "prometheusOperator",
    ]) {
      assert.ok(keys.includes(`sqs-eks-consumer:${key}`), `${key} in ${keys.join(", ")}`);
    }
    assert.equal(
      keys.filter((k) => k === "sqs-eks-consumer:alarmEmails").length,
      2,
      "a malformed address and a duplicate",
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

  it("malformed addresses are named, each of them", () => {
    const bad = ["oncall", "oncall@", "@example.com", "on call@example.com", "oncall@example", "a@b@example.com", ""];
    const reason =
      problems({ "sqs-eks-consumer:alarmEmails": JSON.stringify(["ok@example.com", ...bad]) }).get(k("alarmEmails")) ??
      "";
    for (const address of bad) assert.ok(reason.includes(JSON.stringify(address)), `${address} in ${reason}`);
  });
});

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
});

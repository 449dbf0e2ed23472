/**
 * The alarms and the OTLP endpoint, under Pulumi mocks: what the program registers for a default stack, for
 * one that turns everything on, and for one that autoscales, and the component alone. The threshold's
 * derivation is in alarms.test.ts; the stack config that drives them in config/observability.test.ts.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_TUNABLES } from "../consumer/src/contract";
import { parseTracingConfig } from "../consumer/src/tracing-config";
import { ConsumerAlarms, oldestMessageAgeThresholdSeconds } from "../infra/alarms";
import type { PolicyDocument } from "../infra/iam-documents";
import { ACCOUNT_ID, type ProgramRun, type RecordedResource } from "./helpers/mocks";
import { assertSucceeded, jsonInput, named, ofType, runPrograms, scenario } from "./helpers/program";

const EMAILS = ["oncall@example.com", "team@example.com"];

let plain: ProgramRun;
let full: ProgramRun;
let scaled: ProgramRun;

before(async () => {
  [plain, full, scaled] = (await runPrograms([
    await scenario("alarms", {}),
    await scenario("observed", {
      alarmEmails: EMAILS,
      alarmMessageAgeSeconds: 900,
      otlpEndpoint: "http://otel-collector.observability:4318",
      otlpProtocol: "http/json",
      prometheusOperator: "true",
      consumer: { handlerTimeoutSeconds: 120 },
    }),
    await scenario("scaled", { autoscaling: "keda", maxReplicas: 6, alarmMaxReplicasMinutes: 20 }),
  ])) as [ProgramRun, ProgramRun, ProgramRun];
  assertSucceeded(plain);
  assertSucceeded(full);
  assertSucceeded(scaled);
});

const alarm = (run: ProgramRun, role: string): RecordedResource => named(run, `alarms-${role}`);

describe("CloudWatch alarms", () => {
  it("DLQ has messages: ApproximateNumberOfMessagesVisible > 0 on the DLQ, every minute, to the topic", () => {
    const dlq = alarm(plain, "dlq-messages").inputs;
    assert.equal(dlq.namespace, "AWS/SQS");
    assert.equal(dlq.metricName, "ApproximateNumberOfMessagesVisible");
    assert.deepEqual(dlq.dimensions, { QueueName: named(plain, "queue-dlq").inputs.name });
    assert.equal(dlq.comparisonOperator, "GreaterThanThreshold");
    assert.equal(dlq.threshold, 0);
    assert.equal(dlq.period, 60);
    const topicArn = `arn:aws:sns:us-west-2:${ACCOUNT_ID}:${String(named(plain, "alarms-topic").inputs.name)}`;
    assert.deepEqual(dlq.alarmActions, [topicArn]);
    assert.deepEqual(dlq.okActions, [topicArn]);
    assert.equal(plain.outputs.alarmTopicArn, topicArn);
  });

  it("oldest message: the threshold derives from the handler timeout and maxReceiveCount, unless the stack sets it", () => {
    const age = alarm(plain, "oldest-message-age").inputs;
    assert.equal(age.metricName, "ApproximateAgeOfOldestMessage");
    assert.deepEqual(age.dimensions, { QueueName: named(plain, "queue-queue").inputs.name });
    assert.equal(age.threshold, oldestMessageAgeThresholdSeconds(DEFAULT_TUNABLES, 5, 345_600));
    assert.equal(alarm(full, "oldest-message-age").inputs.threshold, 900);
  });

  it("the topic is encrypted with a key CloudWatch may use, and only this account's alarms may publish", () => {
    const topic = named(plain, "alarms-topic").inputs;
    const key = named(plain, "alarms-key");
    assert.match(String(topic.kmsMasterKeyId), /^arn:aws:kms:us-west-2:\d+:key\//);
    assert.equal(key.inputs.enableKeyRotation, true);
    const keyPolicy = jsonInput(key, "policy") as PolicyDocument;
    const cloudwatch = keyPolicy.Statement.find((s) => s.Sid === "CloudWatchPublishes")!;
    assert.deepEqual(cloudwatch.Principal, { Service: "cloudwatch.amazonaws.com" });
    assert.deepEqual(cloudwatch.Action, ["kms:Decrypt", "kms:GenerateDataKey*"]);
    assert.deepEqual(cloudwatch.Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT_ID } });
    const topicPolicy = jsonInput(named(plain, "alarms-topic-policy"), "policy") as PolicyDocument;
    const publish = topicPolicy.Statement.find((s) => s.Effect === "Allow")!;
    assert.equal(publish.Action, "sns:Publish");
    assert.deepEqual(publish.Condition, {
      ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:us-west-2:${ACCOUNT_ID}:alarm:*` },
      StringEquals: { "aws:SourceAccount": ACCOUNT_ID },
    });
    assert.ok(
      topicPolicy.Statement.some(
        (s) => s.Effect === "Deny" && JSON.stringify(s.Condition).includes("aws:SecureTransport"),
      ),
    );
  });

  it("email subscriptions only when the stack lists addresses", () => {
    assert.deepEqual(ofType(plain, "aws:sns/topicSubscription:TopicSubscription"), []);
    const subscriptions = ofType(full, "aws:sns/topicSubscription:TopicSubscription").map((s) => [
      s.inputs.protocol,
      s.inputs.endpoint,
    ]);
    assert.deepEqual(
      subscriptions,
      EMAILS.map((e) => ["email", e]),
    );
  });

  it("two stacks' alarms and topics have different names", () => {
    const names = (run: ProgramRun) =>
      [...ofType(run, "aws:cloudwatch/metricAlarm:MetricAlarm"), ...ofType(run, "aws:sns/topic:Topic")].map((r) =>
        String(r.inputs.name),
      );
    const shared = names(plain).filter((n) => names(full).includes(n));
    assert.deepEqual(shared, []);
  });
});

describe("the consumer at its most replicas (with autoscaling)", () => {
  it("the program adds the alarm only when the stack autoscales, at its maxReplicas and minutes", () => {
    assert.ok(!ofType(plain, "aws:cloudwatch/metricAlarm:MetricAlarm").some((a) => a.name === "alarms-max-replicas"));
    const ceiling = alarm(scaled, "max-replicas").inputs;
    assert.equal(ceiling.threshold, 6);
    assert.equal(ceiling.evaluationPeriods, 20);
    assert.deepEqual(Object.keys(ceiling.dimensions as object).sort(), ["ClusterName", "Namespace"]);
  });
});

describe("the OTLP endpoint per stack", () => {
  const env = (run: ProgramRun): Record<string, string> => {
    const deployment = ofType(run, "kubernetes:apps/v1:Deployment")[0]!.inputs as {
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    };
    return Object.fromEntries(
      deployment.spec.template.spec.containers[0]!.env.filter((e) => e.value !== undefined).map((e) => [
        e.name,
        e.value!,
      ]),
    );
  };

  it("renders OTEL_* into the Deployment, which the consumer reads back as the stack's endpoint and protocol", () => {
    const rendered = env(full);
    const parsed = parseTracingConfig(rendered);
    assert.ok(parsed.ok && parsed.value);
    assert.equal(parsed.value.endpoint, "http://otel-collector.observability:4318/v1/traces");
    assert.equal(parsed.value.protocol, "http/json");
    assert.match(parsed.value.serviceName, /observed/);
  });

  it("no endpoint, no OTEL_* variables: tracing stays off", () => {
    const rendered = env(plain);
    assert.deepEqual(
      Object.keys(rendered).filter((k) => k.startsWith("OTEL_")),
      [],
    );
    assert.deepEqual(parseTracingConfig(rendered), { ok: true, value: undefined });
  });
});

describe("ConsumerAlarms", () => {
  it("a Container Insights alarm on the namespace's running pods, sustained for the given minutes", async () => {
    const recorded: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          recorded.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
          return {
            id: `${args.name}-id`,
            state: {
              ...(args.inputs as Record<string, unknown>),
              arn: `arn:aws:x:us-west-2:${ACCOUNT_ID}:${args.name}`,
            },
          };
        },
        call: () => ({}),
      },
      "sqs-eks-consumer",
      "ceiling",
      true,
    );
    const component = new ConsumerAlarms("alarms", {
      scope: { project: "sqs-eks-consumer", stack: "ceiling" },
      queues: { queueName: "q", deadLetterQueueName: "q-dlq", arn: `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:q` },
      region: "us-west-2",
      settings: { emails: [], messageAgeSeconds: 600, maxReplicasMinutes: 20 },
      delivery: { tunables: DEFAULT_TUNABLES, queue: { maxReceiveCount: 5, messageRetentionSeconds: 345_600 } },
      replicas: { autoscaling: { enabled: true, maxReplicas: 12 }, clusterName: "shared", namespace: "orders" },
      tags: {},
    });
    await new Promise<void>((resolve) =>
      pulumi.all([component.topicArn, ...component.alarmNames]).apply(() => resolve()),
    );
    const ceiling = recorded.find((r) => r.name === "alarms-max-replicas")?.inputs;
    assert.ok(ceiling, "the alarm exists");
    assert.equal(ceiling.namespace, "ContainerInsights");
    assert.equal(ceiling.metricName, "namespace_number_of_running_pods");
    assert.deepEqual(ceiling.dimensions, { ClusterName: "shared", Namespace: "orders" });
    assert.equal(ceiling.threshold, 12);
    assert.equal(ceiling.comparisonOperator, "GreaterThanOrEqualToThreshold");
    assert.equal(ceiling.statistic, "Minimum");
    assert.equal(ceiling.evaluationPeriods, 20);
  });
});

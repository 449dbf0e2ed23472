import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { trace } from "@opentelemetry/api";
import { EXIT_INVALID_CONFIG } from "../src/app";
import type { HandlerContext, ReceivedMessage } from "../src/handler";
import { parseTracingConfig } from "../src/tracing-config";
import { startTracingSdk } from "../src/tracing-sdk";
import { creationContexts } from "../src/tracing";
import { buildBundle, spawnConsumer } from "./helpers/consumer-process";
import { LogCapture } from "./helpers/log-capture";
import { SPAN_KIND, STATUS_CODE, attribute, startOtlpReceiver, type OtlpSpan } from "./helpers/otlp-receiver";
import type { EmulatorApp } from "../local/emulator";
import { eventually } from "./helpers/queue";
import { startTestBed, startTestConsumer } from "./helpers/test-bed";

const PRODUCER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PRODUCER_SPAN = "00f067aa0ba902b7";
const XRAY_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

describe("tracing settings (OTEL_* variables)", () => {
  test("off unless an OTLP exporter or endpoint is asked for", () => {
    assert.deepEqual(parseTracingConfig({}), { ok: true, value: undefined });
    assert.deepEqual(parseTracingConfig({ OTEL_SERVICE_NAME: "orders" }), { ok: true, value: undefined });
    assert.deepEqual(
      parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" }),
      { ok: true, value: undefined },
    );
    assert.deepEqual(
      parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_EXPORTER: "none" }),
      { ok: true, value: undefined },
    );
  });

  test("on: the specification's endpoint rules, protocol and timeout", () => {
    assert.deepEqual(parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }), {
      ok: true,
      value: {
        protocol: "http/protobuf",
        endpoint: "http://collector:4318/v1/traces",
        timeoutMs: 10_000,
        serviceName: "sqs-eks-consumer",
      },
    });
    assert.deepEqual(
      parseTracingConfig({
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://xray.eu-west-1.amazonaws.com/v1/traces",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
        OTEL_SERVICE_NAME: "orders",
      }),
      {
        ok: true,
        value: {
          protocol: "http/json",
          endpoint: "https://xray.eu-west-1.amazonaws.com/v1/traces",
          timeoutMs: 2_500,
          serviceName: "orders",
        },
      },
    );
    const defaults = parseTracingConfig({ OTEL_TRACES_EXPORTER: "otlp" });
    assert.equal(defaults.ok && defaults.value?.endpoint, "http://localhost:4318/v1/traces");
  });

  test("bad values: every bad variable named, with why", () => {
    const result = parseTracingConfig({
      OTEL_TRACES_EXPORTER: "zipkin,otlp",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
      OTEL_EXPORTER_OTLP_TIMEOUT: "soon",
    });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems.map((p) => p.key), [
      "OTEL_TRACES_EXPORTER",
      "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_TIMEOUT",
    ]);
  });
});

describe("producer contexts a message carries", () => {
  const message = (attributes: Record<string, string>, messageAttributes: ReceivedMessage["messageAttributes"]) => ({
    attributes,
    messageAttributes,
  });

  test("W3C traceparent message attribute, X-Ray AWSTraceHeader system attribute, both", () => {
    const traceparent = {
      traceparent: { DataType: "String", StringValue: `00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01` },
    };
    assert.deepEqual(
      creationContexts(message({}, traceparent)).map((c) => [c.traceId, c.spanId]),
      [[PRODUCER_TRACE, PRODUCER_SPAN]],
    );
    assert.deepEqual(
      creationContexts(message({ AWSTraceHeader: XRAY_HEADER }, {})).map((c) => [c.traceId, c.spanId]),
      [["5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"]],
    );
    assert.equal(creationContexts(message({ AWSTraceHeader: XRAY_HEADER }, traceparent)).length, 2);
  });

  test("malformed or absent headers give no link and no error", () => {
    assert.deepEqual(creationContexts(message({}, {})), []);
    assert.deepEqual(
      creationContexts(
        message(
          { AWSTraceHeader: "Root=garbage" },
          { traceparent: { DataType: "String", StringValue: "00-zz-yy-01" } },
        ),
      ),
      [],
    );
  });
});

/**
 * fauxqs does not keep the AWSTraceHeader system attribute (X-Ray-instrumented producers and SNS set
 * it), so this hook plays SQS's part: a ReceiveMessage that asks for AWSTraceHeader (or All) gets it
 * on the message whose body is "xray"; one that does not ask, does not.
 */
function withAwsTraceHeader(app: EmulatorApp): void {
  app.addHook("onSend", (request, _reply, payload, done) => {
    if (request.headers["x-amz-target"] !== "AmazonSQS.ReceiveMessage" || typeof payload !== "string")
      return done(null, payload);
    const body = request.body as
      { MessageSystemAttributeNames?: string[]; AttributeNames?: string[] } | string | Buffer;
    const asked =
      typeof body === "object" && !Buffer.isBuffer(body)
        ? body
        : (JSON.parse(body.toString()) as { MessageSystemAttributeNames?: string[]; AttributeNames?: string[] });
    const names = [...(asked.MessageSystemAttributeNames ?? []), ...(asked.AttributeNames ?? [])];
    if (!names.includes("AWSTraceHeader") && !names.includes("All")) return done(null, payload);
    const response = JSON.parse(payload) as { Messages?: { Body?: string; Attributes?: Record<string, string> }[] };
    for (const m of response.Messages ?? [])
      if (m.Body === "xray") m.Attributes = { ...m.Attributes, AWSTraceHeader: XRAY_HEADER };
    done(null, JSON.stringify(response));
  });
}

describe("spans sent to an OTLP/HTTP receiver", () => {
  // Off first: nothing is registered yet in this process, as in a consumer started without OTEL_*.
  test("without an SDK the handler still gets a context, and nothing is exported", async () => {
    const bed = await startTestBed();
    const receiver = await startOtlpReceiver();
    let seen: HandlerContext | undefined;
    const { running } = await startTestConsumer(bed, { handler: (_m, ctx) => Promise.resolve(void (seen = ctx)) });
    try {
      await bed.sqs.send(new SendMessageCommand({ QueueUrl: bed.queue.queueUrl, MessageBody: "untraced" }));
      await eventually(() => seen !== undefined, 10_000, "the handler");
      const spanContext = trace.getSpanContext(seen!.traceContext);
      assert.ok(spanContext === undefined || !trace.isSpanContextValid(spanContext), "no real span without an SDK");
      assert.deepEqual(receiver.requests, []);
    } finally {
      await running.stop();
      await bed.close();
      await receiver.close();
    }
  });

  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let spans: OtlpSpan[] = [];
  let ids: { traced: string; xray: string; failing: string };
  let queueName: string;
  let queueHost: string;

  before(async () => {
    receiver = await startOtlpReceiver();
    const bed = await startTestBed({ configure: withAwsTraceHeader });
    queueName = bed.queue.queueUrl.split("/").pop()!;
    queueHost = new URL(bed.queue.queueUrl).hostname;
    const logs = new LogCapture();
    const sdk = startTracingSdk(
      {
        protocol: "http/json",
        endpoint: `${receiver.endpoint}/v1/traces`,
        timeoutMs: 5_000,
        serviceName: "orders-consumer",
      },
      "9.9.9",
      logs.logger,
    );
    const userTracer = trace.getTracer("user-code");
    const handled = new Set<string>();
    const { running } = await startTestConsumer(bed, {
      env: { RETRY_BASE_SECONDS: "30" },
      handler: async (message, { traceContext }) => {
        handled.add(message.body);
        if (message.body === "fails") throw new Error("boom");
        if (message.body === "traced") {
          userTracer.startSpan("explicit child", {}, traceContext).end();
          await userTracer.startActiveSpan("active child", async (span) => {
            await new Promise((resolve) => setTimeout(resolve, 1));
            span.end();
          });
        }
      },
    });
    try {
      const send = async (body: string, extra: Partial<ConstructorParameters<typeof SendMessageCommand>[0]>) =>
        (await bed.sqs.send(new SendMessageCommand({ QueueUrl: bed.queue.queueUrl, MessageBody: body, ...extra })))
          .MessageId!;
      ids = {
        traced: await send("traced", {
          MessageAttributes: {
            traceparent: { DataType: "String", StringValue: `00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01` },
          },
        }),
        xray: await send("xray", {}),
        failing: await send("fails", {}),
      };
      await eventually(() => handled.size === 3, 15_000, "three messages handled");
      await eventually(
        () => bed.requests.filter((r) => r.operation === "DeleteMessageBatch").length > 0,
        5_000,
        "a delete",
      );
    } finally {
      await running.stop();
      await sdk.shutdown();
      await bed.close();
    }
    spans = receiver.spans;
  });
  after(async () => receiver.close());

  const named = (prefix: string) => spans.filter((s) => s.name === `${prefix} ${queueName}`);
  const processOf = (id: string) => {
    const found = named("process").filter((s) => attribute(s, "messaging.message.id") === id);
    assert.equal(found.length, 1, `one process span for ${id}`);
    return found[0]!;
  };

  test("receive: CLIENT spans with the messaging attributes", () => {
    const receives = named("receive");
    assert.ok(receives.length > 0);
    for (const span of receives) {
      assert.equal(span.kind, SPAN_KIND.CLIENT);
      assert.equal(span.parentSpanId ?? "", "", "receive spans are roots");
      assert.equal(attribute(span, "messaging.system"), "aws_sqs");
      assert.equal(attribute(span, "messaging.operation.name"), "receive");
      assert.equal(attribute(span, "messaging.operation.type"), "receive");
      assert.equal(attribute(span, "messaging.destination.name"), queueName);
      assert.equal(attribute(span, "server.address"), queueHost);
      assert.equal(span.serviceName, "orders-consumer");
      assert.equal(span.scope, "sqs-eks-consumer");
    }
    const brought = receives.reduce((sum, s) => sum + Number(attribute(s, "messaging.batch.message_count")), 0);
    assert.ok(brought >= 3, `receive spans count ${brought} messages`);
  });

  test("process: one CONSUMER span per message, child of its receive, linked to the producer", () => {
    const receives = new Map(named("receive").map((s) => [s.spanId, s]));
    for (const id of Object.values(ids)) {
      const span = processOf(id);
      assert.equal(span.kind, SPAN_KIND.CONSUMER);
      assert.equal(attribute(span, "messaging.system"), "aws_sqs");
      assert.equal(attribute(span, "messaging.operation.type"), "process");
      assert.equal(attribute(span, "messaging.destination.name"), queueName);
      const parent = receives.get(span.parentSpanId ?? "");
      assert.ok(parent, "the parent is a receive span");
      assert.equal(span.traceId, parent.traceId);
    }
    assert.deepEqual(
      processOf(ids.traced).links?.map((l) => [l.traceId, l.spanId]),
      [[PRODUCER_TRACE, PRODUCER_SPAN]],
    );
    assert.deepEqual(
      processOf(ids.xray).links?.map((l) => [l.traceId, l.spanId]),
      [["5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"]],
    );
    assert.deepEqual(processOf(ids.failing).links ?? [], []);
  });

  test("a failed handler's process span is an error with error.type", () => {
    const span = processOf(ids.failing);
    assert.equal(span.status?.code, STATUS_CODE.ERROR);
    assert.equal(span.status?.message, "boom");
    assert.equal(attribute(span, "error.type"), "error");
    assert.notEqual(processOf(ids.traced).status?.code, STATUS_CODE.ERROR);
  });

  test("the handler's spans are children of its process span, explicit context or active context", () => {
    const processSpan = processOf(ids.traced);
    for (const name of ["explicit child", "active child"]) {
      const child = spans.find((s) => s.name === name);
      assert.ok(child, `${name} exported`);
      assert.equal(child.parentSpanId, processSpan.spanId, `${name} is a child of the process span`);
      assert.equal(child.traceId, processSpan.traceId);
      assert.equal(child.scope, "user-code");
    }
  });

  test("settle: a CLIENT span per DeleteMessageBatch, linked to the process spans it deleted", () => {
    const settles = named("settle");
    assert.ok(settles.length > 0);
    for (const span of settles) {
      assert.equal(span.kind, SPAN_KIND.CLIENT);
      assert.equal(attribute(span, "messaging.operation.type"), "settle");
      assert.equal(attribute(span, "messaging.system"), "aws_sqs");
      assert.ok(Number(attribute(span, "messaging.batch.message_count")) >= 1);
    }
    const linked = settles.flatMap((s) => s.links?.map((l) => l.spanId) ?? []);
    assert.ok(linked.includes(processOf(ids.traced).spanId));
    assert.ok(linked.includes(processOf(ids.xray).spanId));
    assert.ok(!linked.includes(processOf(ids.failing).spanId), "a failed message is not deleted");
  });
});

describe("the bundle turns tracing on from OTEL_* variables", () => {
  let bundle: string;
  before(() => (bundle = buildBundle()));

  for (const protocol of ["http/json", "http/protobuf"] as const) {
    test(`${protocol}: spans reach the endpoint while it runs`, async () => {
      const bed = await startTestBed();
      const receiver = await startOtlpReceiver();
      const consumer = spawnConsumer(bundle, {
        ...bed.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_BSP_SCHEDULE_DELAY: "100",
      });
      try {
        await consumer.waitFor((l) => l.event === "tracing", 10_000, "the tracing line");
        await bed.sqs.send(new SendMessageCommand({ QueueUrl: bed.queue.queueUrl, MessageBody: "hello" }));
        await consumer.waitFor((l) => l.event === "message", 10_000, "the message");
        await eventually(() => receiver.requests.length > 0, 10_000, "an export");
        assert.ok(receiver.requests.every((r) => r.path === "/v1/traces"));
        if (protocol === "http/json")
          await eventually(() => receiver.spans.some((s) => s.name.startsWith("process ")), 10_000, "the process span");
        else assert.ok(receiver.requests.every((r) => r.contentType === "application/x-protobuf" && r.bytes > 0));
      } finally {
        consumer.child.kill("SIGTERM");
        assert.equal((await consumer.exited).code, 0);
        await bed.close();
        await receiver.close();
      }
    });
  }

  test("a bad OTEL_* value exits 78 naming it, with the other bad settings", async () => {
    const consumer = spawnConsumer(bundle, {
      QUEUE_URL: "sqs/orders",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1",
    });
    assert.equal((await consumer.exited).code, EXIT_INVALID_CONFIG);
    const fatal = consumer.lines.find((l) => l.event === "invalid-config")!;
    assert.deepEqual(
      (fatal.problems as { key: string }[]).map((p) => p.key),
      ["QUEUE_URL", "OTEL_EXPORTER_OTLP_PROTOCOL"],
    );
  });
});

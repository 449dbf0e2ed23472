// Tracing end to end: spans at an OTLP/HTTP receiver on loopback, the bundle with tracing on, messages
// with malformed headers, collectors that fail or hang, a bad sampler, and `npm start` with a collector
// that never answers. docs/OBSERVABILITY.md, "Traces".
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { trace } from "@opentelemetry/api";
import type { EmulatorApp } from "../local/emulator";
import { EXIT_INVALID_CONFIG } from "../src/app";
import type { HandlerContext } from "../src/handler";
import { startTracingSdk } from "../src/tracing-sdk";
import { buildBundle, spawnConsumer } from "./helpers/consumer-process";
import { startFaultyOtlpReceiver, type CollectorFault } from "./helpers/faulty-otlp-receiver";
import { LogCapture } from "./helpers/log-capture";
import { SPAN_KIND, STATUS_CODE, attribute, startOtlpReceiver, type OtlpSpan } from "./helpers/otlp-receiver";
import { eventually } from "./helpers/queue";
import { SilentServer } from "./helpers/silent-server";
import { startTestBed, startTestConsumer } from "./helpers/test-bed";
import {
  BAD_TRACEPARENTS,
  BAD_XRAY,
  PRODUCER_SPAN,
  PRODUCER_TRACE,
  XRAY_HEADER,
  stringAttribute,
} from "./helpers/trace-headers";

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

/** Plays SQS's part for AWSTraceHeader (fauxqs drops it): a message whose body names a BAD_XRAY case gets that header when the receive asks. */
function withBadAwsTraceHeaders(app: EmulatorApp): void {
  app.addHook("onSend", (request, _reply, payload, done) => {
    if (request.headers["x-amz-target"] !== "AmazonSQS.ReceiveMessage" || typeof payload !== "string")
      return done(null, payload);
    const response = JSON.parse(payload) as { Messages?: { Body?: string; Attributes?: Record<string, string> }[] };
    for (const m of response.Messages ?? []) {
      const value = BAD_XRAY[m.Body?.replace(/^xray: /, "") ?? ""];
      if (value !== undefined) m.Attributes = { ...m.Attributes, AWSTraceHeader: value };
    }
    done(null, JSON.stringify(response));
  });
}

describe("messages with malformed headers are consumed and traced without links", () => {
  test("every malformed traceparent and AWSTraceHeader: handled, deleted, one unlinked process span each", async () => {
    const receiver = await startOtlpReceiver();
    const bed = await startTestBed({ configure: withBadAwsTraceHeaders });
    const logs = new LogCapture();
    const sdk = startTracingSdk(
      { protocol: "http/json", endpoint: `${receiver.endpoint}/v1/traces`, timeoutMs: 5_000, serviceName: "faults" },
      "0.0.0",
      logs.logger,
    );
    const handled = new Set<string>();
    const { running } = await startTestConsumer(bed, {
      handler: (m) => Promise.resolve(void handled.add(m.messageId)),
    });
    const sent: string[] = [];
    try {
      for (const [name, value] of Object.entries(BAD_TRACEPARENTS)) {
        // SQS refuses an empty String attribute and one past 256 KiB of message; the rest go through as producers would send them.
        if (value === "") continue;
        sent.push(
          (
            await bed.sqs.send(
              new SendMessageCommand({
                QueueUrl: bed.queue.queueUrl,
                MessageBody: `traceparent: ${name}`,
                MessageAttributes: stringAttribute(value),
              }),
            )
          ).MessageId!,
        );
      }
      for (const name of Object.keys(BAD_XRAY)) {
        sent.push(
          (
            await bed.sqs.send(
              new SendMessageCommand({
                QueueUrl: bed.queue.queueUrl,
                MessageBody: `xray: ${name}`,
                MessageAttributes: stringAttribute(`ff-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01`),
              }),
            )
          ).MessageId!,
        );
      }
      await eventually(() => sent.every((id) => handled.has(id)), 20_000, "every message handled");
      await eventually(
        () => bed.requests.filter((r) => r.operation === "DeleteMessageBatch").length > 0,
        10_000,
        "a delete",
      );
    } finally {
      await running.stop();
      await sdk.shutdown();
      await bed.close();
      await receiver.close();
    }
    const processSpans = receiver.spans.filter((s) => s.name.startsWith("process "));
    for (const id of sent) {
      const spans = processSpans.filter((s) => attribute(s, "messaging.message.id") === id);
      assert.equal(spans.length, 1, `one process span for ${id}`);
      assert.deepEqual(spans[0]!.links ?? [], [], `no link for ${id}`);
      assert.notEqual(attribute(spans[0]!, "error.type"), "error");
    }
  });
});

/**
 * A collector that fails: the consumer keeps consuming, and the SDK's shutdown keeps its 3 s flush
 * deadline (docs/OBSERVABILITY.md: "flushes for at most 3 s at shutdown"). The export timeout is
 * the largest the consumer accepts (60 s), so only the flush deadline can bound the hanging case.
 */
describe("a collector that is down, hangs, or refuses", () => {
  const cases: [string, () => Promise<{ endpoint: string; requests: () => number; close(): Promise<void> }>][] = [
    ...(["500", "429", "503"] as const).map((status): [string, () => ReturnType<typeof startFaultyOtlpReceiver>] => [
      `answers ${status}`,
      () => startFaultyOtlpReceiver({ status: Number(status) } as CollectorFault),
    ]),
    ["never answers", () => startFaultyOtlpReceiver({ hang: true })],
    [
      "accepts TCP and never speaks HTTP",
      async () => {
        const silent = new SilentServer();
        await silent.start();
        return { endpoint: silent.endpoint, requests: () => silent.accepted, close: () => silent.stop() };
      },
    ],
    [
      "is down (connection refused)",
      async () => {
        const gone = new SilentServer();
        await gone.start();
        const endpoint = gone.endpoint;
        await gone.stop();
        return { endpoint, requests: () => 1, close: () => Promise.resolve() };
      },
    ],
  ];
  for (const [name, start] of cases) {
    test(`collector ${name}: every message handled and deleted; shutdown ends within the flush deadline`, async () => {
      const collector = await start();
      const bed = await startTestBed();
      const logs = new LogCapture();
      process.env.OTEL_BSP_SCHEDULE_DELAY = "50";
      const sdk = startTracingSdk(
        {
          protocol: "http/protobuf",
          endpoint: `${collector.endpoint}/v1/traces`,
          timeoutMs: 60_000,
          serviceName: "faults",
        },
        "0.0.0",
        logs.logger,
      );
      delete process.env.OTEL_BSP_SCHEDULE_DELAY;
      const handled = new Set<string>();
      const { running } = await startTestConsumer(bed, { handler: (m) => Promise.resolve(void handled.add(m.body)) });
      let shutdownMs: number;
      try {
        for (let i = 0; i < 20; i++)
          await bed.sqs.send(new SendMessageCommand({ QueueUrl: bed.queue.queueUrl, MessageBody: `m${i}` }));
        await eventually(() => handled.size === 20, 20_000, "20 messages handled while exports fail");
        await eventually(() => collector.requests() > 0, 10_000, "an export tried");
        await eventually(
          () => bed.requests.filter((r) => r.operation === "DeleteMessageBatch").length > 0,
          10_000,
          "a delete",
        );
      } finally {
        await running.stop();
        const started = Date.now();
        await sdk.shutdown();
        shutdownMs = Date.now() - started;
        await bed.close();
        await collector.close();
      }
      // 3 s is the flush deadline; the slack is for a loaded machine, the bound is what matters: not the 60 s export timeout.
      assert.ok(shutdownMs < 15_000, `shutdown took ${shutdownMs} ms`);
    });
  }
});

describe("a bad sampler an operator set", () => {
  /** sdk-trace-base `config.ts`: a bad sampler or ratio is reported through diag and replaced by the default; the consumer's diag logger makes it an `otel` warning. */
  for (const [sampler, arg, says] of [
    ["bogus", undefined, /OTEL_TRACES_SAMPLER value "bogus" invalid/],
    ["traceidratio", "2", /OTEL_TRACES_SAMPLER_ARG=2 .* out of range/],
    ["parentbased_traceidratio", "-0.5", /out of range/],
  ] as const) {
    test(`sampler ${sampler}${arg === undefined ? "" : ` with ratio ${arg}`}: the documented fallback, logged as an otel warning`, async () => {
      process.env.OTEL_TRACES_SAMPLER = sampler;
      if (arg !== undefined) process.env.OTEL_TRACES_SAMPLER_ARG = arg;
      const logs = new LogCapture();
      const sdk = startTracingSdk(
        { protocol: "http/json", endpoint: "http://127.0.0.1:9/v1/traces", timeoutMs: 100, serviceName: "faults" },
        "0.0.0",
        logs.logger,
      );
      delete process.env.OTEL_TRACES_SAMPLER;
      delete process.env.OTEL_TRACES_SAMPLER_ARG;
      try {
        const span = trace.getTracer("t").startSpan("x");
        assert.ok(span.isRecording(), "the fallback samples");
        span.end();
        assert.ok(logs.find((l) => l.event === "otel" && says.test(l.msg)).length > 0, JSON.stringify(logs.lines));
      } finally {
        await sdk.shutdown();
      }
    });
  }
});

describe("npm start with tracing on and a collector that never answers", () => {
  test("SIGTERM: exit 0 within the shutdown budget, not the 60 s export timeout", async () => {
    const collector = await startFaultyOtlpReceiver({ hang: true });
    const bed = await startTestBed();
    // What `npm start` runs (package.json "start"), against the bed's queue.
    const consumer = spawnConsumer(join(__dirname, "..", "local", "start.ts"), {
      ...bed.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_TIMEOUT: "60000",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      SHUTDOWN_BUDGET_SECONDS: "2",
    });
    try {
      await consumer.waitFor((l) => l.event === "tracing", 20_000, "the tracing line");
      await bed.sqs.send(new SendMessageCommand({ QueueUrl: bed.queue.queueUrl, MessageBody: "traced into the void" }));
      await consumer.waitFor((l) => l.event === "message", 15_000, "the message handled");
      await eventually(() => collector.requests() > 0, 10_000, "an export hanging");
      const signalled = Date.now();
      consumer.child.kill("SIGTERM");
      const exited = await consumer.exited;
      assert.equal(exited.code, 0);
      // Budget 2 s; the slack is for a loaded machine. Without a deadline the export would hold the process for 60 s.
      assert.ok(exited.at - signalled < 12_000, `exited ${exited.at - signalled} ms after SIGTERM`);
    } finally {
      consumer.child.kill("SIGKILL");
      await bed.close();
      await collector.close();
    }
  });
});

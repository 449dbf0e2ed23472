// Attacks on the consumer's tracing, as a new user would meet them: headers a producer got wrong,
// collectors that fail or hang, OTEL_* values an operator got wrong. Issue 15; docs/OBSERVABILITY.md.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { trace } from "@opentelemetry/api";
import fc from "fast-check";
import type { ReceivedMessage } from "../src/handler";
import { parseTracingConfig } from "../src/tracing-config";
import { startTracingSdk } from "../src/tracing-sdk";
import { creationContexts } from "../src/tracing";
import { join } from "node:path";
import { spawnConsumer } from "./helpers/consumer-process";
import { startFaultyOtlpReceiver, type CollectorFault } from "./helpers/faulty-otlp-receiver";
import { LogCapture } from "./helpers/log-capture";
import { attribute, startOtlpReceiver } from "./helpers/otlp-receiver";
import { eventually } from "./helpers/queue";
import { SilentServer } from "./helpers/silent-server";
import { startTestBed, startTestConsumer } from "./helpers/test-bed";
import type { EmulatorApp } from "../local/emulator";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

const stringAttribute = (value: string): { traceparent: { DataType: string; StringValue: string } } => ({
  traceparent: { DataType: "String", StringValue: value },
});
const carrier = (
  awsTraceHeader: string | undefined,
  traceparent: string | undefined,
): Pick<ReceivedMessage, "attributes" | "messageAttributes"> => ({
  attributes: awsTraceHeader === undefined ? {} : { AWSTraceHeader: awsTraceHeader },
  messageAttributes: traceparent === undefined ? {} : stringAttribute(traceparent),
});
const ids = (contexts: ReturnType<typeof creationContexts>) => contexts.map((c) => `${c.traceId}/${c.spanId}`);

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/#traceparent-header-field-values): version
 * ff is invalid, trace-id and parent-id of all zeros are invalid, hex is lowercase, version 00 has
 * exactly four fields. X-Ray (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader):
 * `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>`.
 */
const BAD_TRACEPARENTS: Record<string, string> = {
  garbage: "not a traceparent",
  "version ff": `ff-${TRACE}-${SPAN}-01`,
  "all-zero trace id": `00-${ZERO_TRACE}-${SPAN}-01`,
  "all-zero parent id": `00-${TRACE}-${ZERO_SPAN}-01`,
  "upper-case hex": `00-${TRACE.toUpperCase()}-${SPAN.toUpperCase()}-01`,
  "version 00 with a fifth field": `00-${TRACE}-${SPAN}-01-extra`,
  "short trace id": `00-${TRACE.slice(2)}-${SPAN}-01`,
  oversized: `00-${TRACE}-${SPAN}-01`.padEnd(64 * 1024, "x"),
  empty: "",
};
const BAD_XRAY: Record<string, string> = {
  garbage: "garbage",
  "no Root": `Parent=${SPAN};Sampled=1`,
  "all-zero ids": `Root=1-00000000-000000000000000000000000;Parent=${ZERO_SPAN};Sampled=1`,
  "wrong version": `Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`,
  "Parent too short": `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c;Sampled=1`,
  oversized: `Root=1-${"5".repeat(32 * 1024)};Parent=${"5".repeat(32 * 1024)};Sampled=1`,
  empty: "",
};
const GOOD_XRAY = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

describe("malformed producer headers give no link and never an error", () => {
  for (const [name, value] of Object.entries(BAD_TRACEPARENTS)) {
    test(`traceparent: ${name}`, () => assert.deepEqual(creationContexts(carrier(undefined, value)), []));
  }
  for (const [name, value] of Object.entries(BAD_XRAY)) {
    test(`AWSTraceHeader: ${name}`, () => assert.deepEqual(creationContexts(carrier(value, undefined)), []));
  }

  test("a bad header beside a good one: the good one is still linked", () => {
    assert.deepEqual(ids(creationContexts(carrier("garbage", `00-${TRACE}-${SPAN}-01`))), [`${TRACE}/${SPAN}`]);
    assert.deepEqual(ids(creationContexts(carrier(GOOD_XRAY, "garbage"))), [
      "5759e988bd862e3fe1be46a994272793/53995c3f42cd8ad8",
    ]);
  });

  test("a valid X-Ray header with a 64 KiB tail of other fields: linked, no throw", () => {
    assert.deepEqual(ids(creationContexts(carrier(`${GOOD_XRAY};${"Self=x;".repeat(10_000)}`, undefined))), [
      "5759e988bd862e3fe1be46a994272793/53995c3f42cd8ad8",
    ]);
  });

  test("both headers naming the same producer span: one link", () => {
    const same = creationContexts(carrier(GOOD_XRAY, "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
    assert.deepEqual(ids(same), ["5759e988bd862e3fe1be46a994272793/53995c3f42cd8ad8"]);
  });

  test("a traceparent sent as a Binary attribute (no StringValue) is ignored", () => {
    assert.deepEqual(
      creationContexts({
        attributes: {},
        messageAttributes: {
          traceparent: { DataType: "Binary", BinaryValue: Buffer.from(`00-${TRACE}-${SPAN}-01`) },
        } as ReceivedMessage["messageAttributes"],
      }),
      [],
    );
  });

  test("any string in either header: no throw, at most two links, every link a valid span context", () => {
    const header = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc
        .tuple(
          fc.stringMatching(/^[0-9a-fA-F]{0,3}$/),
          fc.stringMatching(/^[0-9a-f]{30,34}$/),
          fc.stringMatching(/^[0-9a-f]{14,18}$/),
          fc.stringMatching(/^[0-9a-f]{0,3}$/),
        )
        .map((parts) => parts.join("-")),
      fc
        .tuple(
          fc.stringMatching(/^[0-9a-f]{6,9}$/),
          fc.stringMatching(/^[0-9a-f]{22,25}$/),
          fc.stringMatching(/^[0-9a-f]{14,17}$/),
          fc.constantFrom("0", "1", "?", ""),
        )
        .map(([a, b, c, s]) => `Root=1-${a}-${b};Parent=${c};Sampled=${s}`),
    );
    fc.assert(
      fc.property(fc.option(header, { nil: undefined }), fc.option(header, { nil: undefined }), (xray, traceparent) => {
        const found = creationContexts(carrier(xray, traceparent));
        assert.ok(found.length <= 2);
        for (const context of found) assert.ok(trace.isSpanContextValid(context), JSON.stringify(context));
      }),
      { numRuns: 500 },
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
      { protocol: "http/json", endpoint: `${receiver.endpoint}/v1/traces`, timeoutMs: 5_000, serviceName: "attacks" },
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
                MessageAttributes: stringAttribute(`ff-${TRACE}-${SPAN}-01`),
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
          serviceName: "attacks",
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

/**
 * The OpenTelemetry specification: "The SDK MUST interpret an empty value of an environment variable
 * the same way as when the variable is unset" (specification/configuration/sdk-environment-variables.md,
 * "Parsing empty value"). Kubernetes manifests and Helm values often render a variable as empty.
 */
describe("OTEL_* values an operator got wrong", () => {
  for (const key of [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
  ]) {
    test(`an empty ${key} is read as unset, not refused`, () => {
      const result = parseTracingConfig({ OTEL_TRACES_EXPORTER: "otlp", [key]: "" });
      assert.ok(result.ok, `refused: ${JSON.stringify(!result.ok && result.problems)}`);
      assert.equal(result.value?.endpoint, "http://localhost:4318/v1/traces");
    });
  }

  // The specification appends the signal path to the base URL's path; a query must not swallow it.
  test("a base endpoint with a query: /v1/traces goes into the path, or the value is refused", () => {
    const result = parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel:4318?tenant=a" });
    if (!result.ok)
      return assert.deepEqual(
        result.problems.map((p) => p.key),
        ["OTEL_EXPORTER_OTLP_ENDPOINT"],
      );
    assert.equal(new URL(result.value!.endpoint).pathname, "/v1/traces", result.value!.endpoint);
  });

  test("endpoints that are not OTLP/HTTP URLs are refused, each named", () => {
    for (const bad of [
      "grpc://collector:4317",
      "collector:4318",
      "//collector:4318",
      "http//collector",
      "unix:///run/otel.sock",
      " ",
    ]) {
      const result = parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: bad, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: bad });
      assert.equal(result.ok, false, bad);
      assert.deepEqual(!result.ok && result.problems.map((p) => p.key), ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], bad);
    }
  });

  test("timeouts at and past the limits", () => {
    for (const bad of ["0", "-1", "60001", "1.5", "1e3x", "Infinity"])
      assert.equal(
        parseTracingConfig({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_TIMEOUT: bad }).ok,
        false,
        bad,
      );
    for (const good of ["1", "60000"])
      assert.equal(
        parseTracingConfig({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_TIMEOUT: good }).ok,
        true,
        good,
      );
  });

  test("unknown exporters are refused, in any case or list", () => {
    for (const bad of ["jaeger", "console", "OTLP", "otlp,zipkin", "none,otlp"]) {
      const result = parseTracingConfig({ OTEL_TRACES_EXPORTER: bad });
      assert.equal(result.ok, false, bad);
      assert.deepEqual(!result.ok && [...new Set(result.problems.map((p) => p.key))], ["OTEL_TRACES_EXPORTER"], bad);
    }
  });

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
        { protocol: "http/json", endpoint: "http://127.0.0.1:9/v1/traces", timeoutMs: 100, serviceName: "attacks" },
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

// Tracing's pure parts: the OTEL_* variables (an operator's mistakes included) and the producer
// contexts a message carries (a producer's mistakes included). docs/OBSERVABILITY.md, "Traces".
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { trace } from "@opentelemetry/api";
import fc from "fast-check";
import type { ReceivedMessage } from "../src/handler";
import { creationContexts } from "../src/tracing";
import { parseTracingConfig } from "../src/tracing-config";
import {
  BAD_TRACEPARENTS,
  BAD_XRAY,
  PRODUCER_SPAN,
  PRODUCER_TRACE,
  XRAY_HEADER,
  stringAttribute,
} from "./helpers/trace-headers";

const carrier = (
  awsTraceHeader: string | undefined,
  traceparent: string | undefined,
): Pick<ReceivedMessage, "attributes" | "messageAttributes"> => ({
  attributes: awsTraceHeader === undefined ? {} : { AWSTraceHeader: awsTraceHeader },
  messageAttributes: traceparent === undefined ? {} : stringAttribute(traceparent),
});
const ids = (contexts: ReturnType<typeof creationContexts>) => contexts.map((c) => `${c.traceId}/${c.spanId}`);

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
    assert.deepEqual(creationContexts(message({}, {})), [], "no header, no link");
  });
});

describe("malformed producer headers give no link and never an error", () => {
  for (const [name, value] of Object.entries(BAD_TRACEPARENTS)) {
    test(`traceparent: ${name}`, () => assert.deepEqual(creationContexts(carrier(undefined, value)), []));
  }
  for (const [name, value] of Object.entries(BAD_XRAY)) {
    test(`AWSTraceHeader: ${name}`, () => assert.deepEqual(creationContexts(carrier(value, undefined)), []));
  }

  test("a bad header beside a good one: the good one is still linked", () => {
    assert.deepEqual(ids(creationContexts(carrier("garbage", `00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01`))), [
      `${PRODUCER_TRACE}/${PRODUCER_SPAN}`,
    ]);
    assert.deepEqual(ids(creationContexts(carrier(XRAY_HEADER, "garbage"))), [
      "5759e988bd862e3fe1be46a994272793/53995c3f42cd8ad8",
    ]);
  });

  test("a valid X-Ray header with a 64 KiB tail of other fields: linked, no throw", () => {
    assert.deepEqual(ids(creationContexts(carrier(`${XRAY_HEADER};${"Self=x;".repeat(10_000)}`, undefined))), [
      "5759e988bd862e3fe1be46a994272793/53995c3f42cd8ad8",
    ]);
  });

  test("both headers naming the same producer span: one link", () => {
    const same = creationContexts(carrier(XRAY_HEADER, "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
    assert.deepEqual(ids(same), ["5759e988bd862e3fe1be46a994272793/53995c3f42cd8ad8"]);
  });

  test("a traceparent sent as a Binary attribute (no StringValue) is ignored", () => {
    assert.deepEqual(
      creationContexts({
        attributes: {},
        messageAttributes: {
          traceparent: { DataType: "Binary", BinaryValue: Buffer.from(`00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01`) },
        },
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

// Scenario T's span counter, fed by the exporters the consumer ships (protobuf and JSON), so a count of
// 0 in the benchmark means nothing was exported, not that the counter could not read it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { startOtlpSink } from "./otlp-sink";

for (const protocol of ["http/protobuf", "http/json"] as const) {
  test(`the sink counts every span the ${protocol} exporter sends, per run key`, async () => {
    const sink = await startOtlpSink();
    try {
      const exporter = (key: string): OtlpJsonExporter | OtlpProtobufExporter => {
        const config = { url: `${sink.endpoint}/${key}/v1/traces`, timeoutMillis: 5_000 };
        return protocol === "http/json" ? new OtlpJsonExporter(config) : new OtlpProtobufExporter(config);
      };
      for (const [key, count] of [
        ["run-a", 1_100],
        ["run-b", 3],
      ] as const) {
        // Two scopes and more spans than one export batch (512), so every level of the message repeats.
        const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter(key))] });
        for (let i = 0; i < count; i++) {
          const span = provider
            .getTracer(i % 2 === 0 ? "scope-one" : "scope-two")
            .startSpan(`span ${i}`, { attributes: { i, name: "x".repeat(i % 50) } });
          span.addEvent("event", { i });
          span.end();
        }
        await provider.forceFlush();
        await provider.shutdown();
      }
      assert.equal(sink.counts("run-a").spans, 1_100);
      assert.ok(sink.counts("run-a").requests >= 3, "1,100 spans take at least 3 exports of 512");
      assert.equal(sink.counts("run-b").spans, 3);
      assert.deepEqual(sink.counts("never"), { spans: 0, requests: 0, bytes: 0, unreadable: 0 });
      assert.equal(sink.counts("run-a").unreadable + sink.counts("run-b").unreadable, 0);
    } finally {
      await sink.close();
    }
  });
}

test("the sink refuses a body that is not OTLP, and counts no spans for it", async () => {
  const sink = await startOtlpSink();
  try {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        `${sink.endpoint}/bad/v1/traces`,
        { method: "POST", headers: { "content-type": "application/x-protobuf" } },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on("error", reject);
      // Field 1, wire type 2, length 100: runs past the end of a 3-byte body.
      req.end(Buffer.from([0x0a, 0x64, 0x00]));
    });
    assert.equal(status, 400);
    assert.deepEqual(sink.counts("bad"), { spans: 0, requests: 1, bytes: 3, unreadable: 1 });
  } finally {
    await sink.close();
  }
});

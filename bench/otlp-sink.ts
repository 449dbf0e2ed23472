// Scenario T's trace collector stand-in: an OTLP/HTTP receiver on loopback, in the orchestrator's
// process, that answers every export with 200 and counts the spans in it, per run. The consumer with
// tracing on exports to `<endpoint>/<run key>`, so the span count cannot mix runs.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** What one run exported. */
export interface OtlpCounts {
  /** Spans in the export requests that could be read. */
  readonly spans: number;
  readonly requests: number;
  readonly bytes: number;
  /** Requests refused with 400: a body that is neither OTLP protobuf nor OTLP JSON. */
  readonly unreadable: number;
}

export interface OtlpSink {
  /** `http://127.0.0.1:<port>`; a run's exporter base URL is `${endpoint}/${key}`. */
  readonly endpoint: string;
  /** What was exported to `${endpoint}/${key}/v1/traces` so far (zeros if nothing). */
  counts(key: string): OtlpCounts;
  close(): Promise<void>;
}

/** Reads one base-128 varint at `at`; returns its value and the offset after it. */
function varint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length && shift < 64; i++) {
    const byte = buf[i]!;
    // Lengths and tags fit in 2^53; the upper bytes of 64-bit values only matter to fields skipped here.
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, i + 1];
    shift += 7;
  }
  throw new Error(`truncated varint at byte ${at}`);
}

/**
 * The length-delimited fields numbered `field` in one protobuf message, as sub-buffers; every other
 * field is skipped by its wire type. Throws on a truncated message or an unknown wire type.
 * Source: protobuf.dev `programming-guides/encoding` (wire types 0 VARINT, 1 I64, 2 LEN, 5 I32).
 */
function lengthDelimited(message: Buffer, field: number): Buffer[] {
  const found: Buffer[] = [];
  let at = 0;
  while (at < message.length) {
    const [tag, afterTag] = varint(message, at);
    const wireType = tag % 8;
    at = afterTag;
    if (wireType === 0) at = varint(message, at)[1];
    else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else if (wireType === 2) {
      const [length, afterLength] = varint(message, at);
      if (afterLength + length > message.length)
        throw new Error(`field ${Math.floor(tag / 8)} runs past the end of its message`);
      if (Math.floor(tag / 8) === field) found.push(message.subarray(afterLength, afterLength + length));
      at = afterLength + length;
    } else throw new Error(`unsupported wire type ${wireType}`);
    if (at > message.length) throw new Error("message truncated");
  }
  return found;
}

/**
 * Spans in an OTLP `ExportTraceServiceRequest` encoded as protobuf: resource_spans = 1, their
 * scope_spans = 2, their spans = 2. Source: opentelemetry-proto `opentelemetry/proto/collector/trace/v1/trace_service.proto`
 * and `opentelemetry/proto/trace/v1/trace.proto`.
 */
export function countProtobufSpans(body: Buffer): number {
  let spans = 0;
  for (const resourceSpans of lengthDelimited(body, 1)) {
    for (const scopeSpans of lengthDelimited(resourceSpans, 2)) spans += lengthDelimited(scopeSpans, 2).length;
  }
  return spans;
}

/** Spans in an OTLP/JSON `ExportTraceServiceRequest` (the same structure, camelCase field names). */
export function countJsonSpans(body: Buffer): number {
  const request = JSON.parse(body.toString("utf8")) as { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };
  let spans = 0;
  for (const rs of request.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
  return spans;
}

/** Starts the receiver on 127.0.0.1 (a port of the system's choosing). */
export async function startOtlpSink(): Promise<OtlpSink> {
  const byKey = new Map<string, { spans: number; requests: number; bytes: number; unreadable: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const match = /^\/([^/]+)\/v1\/traces$/.exec(req.url ?? "");
      if (req.method !== "POST" || !match) {
        res.writeHead(404).end();
        return;
      }
      const counts = byKey.get(match[1]!) ?? { spans: 0, requests: 0, bytes: 0, unreadable: 0 };
      byKey.set(match[1]!, counts);
      const raw = Buffer.concat(chunks);
      const json = (req.headers["content-type"] ?? "").startsWith("application/json");
      counts.requests++;
      counts.bytes += raw.length;
      try {
        const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
        counts.spans += json ? countJsonSpans(body) : countProtobufSpans(body);
      } catch {
        counts.unreadable++;
        res.writeHead(400).end();
        return;
      }
      // An empty ExportTraceServiceResponse: every span accepted.
      res
        .writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" })
        .end(json ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: (key) => ({ ...(byKey.get(key) ?? { spans: 0, requests: 0, bytes: 0, unreadable: 0 }) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

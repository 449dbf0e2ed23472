import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** One span as OTLP/JSON carries it (ids in hex, kind and status code as numbers). */
export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes?: readonly { key: string; value: Record<string, unknown> }[];
  readonly links?: readonly { traceId: string; spanId: string }[];
  readonly status?: { code?: number; message?: string };
  /** Filled in by the receiver from the span's instrumentation scope and resource. */
  scope: string;
  serviceName: string;
}

/** OTLP span kinds (opentelemetry-proto `trace.proto`, `Span.SpanKind`). */
export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** OTLP status codes (`Status.StatusCode`). */
export const STATUS_CODE = { UNSET: 0, OK: 1, ERROR: 2 } as const;

interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpSpan["attributes"] };
    scopeSpans?: { scope?: { name?: string }; spans?: Omit<OtlpSpan, "scope" | "serviceName">[] }[];
  }[];
}

/**
 * A stand-in for an OpenTelemetry collector's OTLP/HTTP receiver, on loopback: it answers every
 * POST to /v1/traces with 200 and keeps what it got. JSON bodies (`http/json`) are decoded into
 * spans; every request's path, content type and size are kept too (for `http/protobuf`).
 */
export async function startOtlpReceiver(): Promise<{
  readonly endpoint: string;
  readonly spans: OtlpSpan[];
  readonly requests: { path: string; contentType: string; bytes: number }[];
  close(): Promise<void>;
}> {
  const spans: OtlpSpan[] = [];
  const requests: { path: string; contentType: string; bytes: number }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const contentType = req.headers["content-type"] ?? "";
      requests.push({ path: req.url ?? "", contentType, bytes: body.length });
      if (contentType.startsWith("application/json")) {
        const request = JSON.parse(body.toString("utf8")) as ExportRequest;
        for (const rs of request.resourceSpans ?? []) {
          const name = rs.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue;
          const serviceName = typeof name === "string" ? name : "";
          for (const ss of rs.scopeSpans ?? [])
            for (const span of ss.spans ?? []) spans.push({ ...span, scope: ss.scope?.name ?? "", serviceName });
        }
      }
      res.writeHead(200, {
        "content-type": contentType.startsWith("application/json") ? "application/json" : "application/x-protobuf",
      });
      res.end(contentType.startsWith("application/json") ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A span attribute's value, whatever its OTLP type. */
export function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  if (value === undefined) return undefined;
  if ("stringValue" in value) return value.stringValue;
  if ("intValue" in value) return Number(value.intValue);
  if ("boolValue" in value) return value.boolValue;
  if ("doubleValue" in value) return value.doubleValue;
  return value;
}

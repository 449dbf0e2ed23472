import type { EnvLike, ParseResult, SettingProblem } from "./settings";

/** OTLP over HTTP, the two encodings the bundle carries. */
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** The service name spans carry unless `OTEL_SERVICE_NAME` says otherwise. */
export const DEFAULT_SERVICE_NAME = "sqs-eks-consumer";
/** The OpenTelemetry specification's default OTLP/HTTP traces endpoint and export timeout. */
const DEFAULT_TRACES_ENDPOINT = "http://localhost:4318/v1/traces";
const DEFAULT_EXPORT_TIMEOUT_MS = 10_000;
/** An export that takes longer than this is a dead collector, not a slow one. */
const MAX_EXPORT_TIMEOUT_MS = 60_000;

/** How to export traces, read from the standard `OTEL_*` variables. */
export interface TracingConfig {
  readonly protocol: OtlpProtocol;
  /** Full URL spans are POSTed to, `/v1/traces` included. */
  readonly endpoint: string;
  /** Deadline of one export request (ms). */
  readonly timeoutMs: number;
  readonly serviceName: string;
}

/**
 * Reads the OpenTelemetry SDK environment variables that decide whether and where the consumer
 * exports traces. Tracing is on when `OTEL_TRACES_EXPORTER=otlp` or an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, unless
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`; off, the result is `undefined`.
 * Endpoint rules follow the specification: the generic endpoint gets `/v1/traces` appended, the
 * traces endpoint is used as is. An empty variable counts as unset, as the specification says.
 * Errors name every bad variable (the consumer exits 78).
 * Source: opentelemetry-specification `specification/protocol/exporter.md`,
 * `specification/configuration/sdk-environment-variables.md`.
 */
export function parseTracingConfig(raw: EnvLike): ParseResult<TracingConfig | undefined> {
  // "The SDK MUST interpret an empty value of an environment variable the same way as when the
  // variable is unset" (sdk-environment-variables.md, "Parsing empty value"); manifests often render "".
  const env: EnvLike = Object.fromEntries(
    Object.entries(raw).filter(([key, value]) => !key.startsWith("OTEL_") || value !== ""),
  );
  const problems: SettingProblem[] = [];
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  const unsupported = exporters.filter((e) => e !== "otlp" && e !== "none");
  if (unsupported.length > 0)
    problems.push({
      key: "OTEL_TRACES_EXPORTER",
      reason: `${unsupported.join(", ")} is not supported: use otlp (OTLP over HTTP) or none`,
    });
  if (exporters.includes("none") && exporters.length > 1)
    problems.push({ key: "OTEL_TRACES_EXPORTER", reason: "none cannot be combined with another exporter" });

  const protocolKey =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL !== undefined
      ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
      : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = env[protocolKey] ?? "http/protobuf";
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol))
    problems.push({ key: protocolKey, reason: `${protocol} is not supported: use ${OTLP_PROTOCOLS.join(" or ")}` });

  let endpoint = DEFAULT_TRACES_ENDPOINT;
  let endpointKey: string | undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined) {
    endpointKey = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  } else if (env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined) {
    endpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";
    endpoint = withTracesPath(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  }
  if (endpointKey !== undefined && !isHttpUrl(env[endpointKey] ?? ""))
    problems.push({ key: endpointKey, reason: `${env[endpointKey]} is not an http:// or https:// URL` });

  const timeoutKey =
    env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT !== undefined
      ? "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"
      : "OTEL_EXPORTER_OTLP_TIMEOUT";
  const rawTimeout = env[timeoutKey];
  const timeoutMs = rawTimeout === undefined ? DEFAULT_EXPORT_TIMEOUT_MS : Number(rawTimeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_EXPORT_TIMEOUT_MS) {
    problems.push({
      key: timeoutKey,
      reason: `${rawTimeout} is not a whole number of milliseconds from 1 to ${MAX_EXPORT_TIMEOUT_MS}`,
    });
  }

  if (problems.length > 0) return { ok: false, problems };
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true" || exporters.includes("none");
  const wanted = exporters.includes("otlp") || endpointKey !== undefined;
  if (disabled || !wanted) return { ok: true, value: undefined };
  return {
    ok: true,
    value: {
      protocol: protocol as OtlpProtocol,
      endpoint,
      timeoutMs,
      serviceName: env.OTEL_SERVICE_NAME || DEFAULT_SERVICE_NAME,
    },
  };
}

/** The base endpoint with `/v1/traces` appended to its path (a query or fragment stays where it is). */
function withTracesPath(base: string): string {
  try {
    const url = new URL(base);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/traces`;
    return url.toString();
  } catch {
    return base;
  }
}

/** True for an absolute http:// or https:// URL: what an OTLP/HTTP exporter can send to. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/**
 * The environment that turns tracing on, as a Deployment sets it: OTLP/HTTP to `endpoint` (a
 * collector's base URL; `/v1/traces` is appended by the consumer, as the specification says) with
 * `protocol`, spans named for `serviceName`. `parseTracingConfig` reads it back to the same values.
 */
export function renderTracingEnv(
  endpoint: string,
  protocol: OtlpProtocol,
  serviceName: string,
): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_SERVICE_NAME: serviceName,
  };
}

/** The telemetry concern (TELEMETRY_KEYS): where traces go, and whether the cluster runs the Prometheus Operator. */
import { isHttpUrl, OTLP_PROTOCOLS, type OtlpProtocol, type SettingProblem } from "../../consumer/src/contract";
import type { ConfigInput } from "./parse";

export interface TelemetryConfig {
  /** OTLP/HTTP collector base URL; undefined: the consumer exports no traces. */
  readonly otlpEndpoint: string | undefined;
  readonly otlpProtocol: OtlpProtocol;
  /** Create a metrics Service, a ServiceMonitor and a PrometheusRule (the CRDs must exist). */
  readonly prometheusOperator: boolean;
}

/** The telemetry settings; a non-HTTP endpoint or an unknown protocol is a problem (a prometheusOperator that is not true/false already is one: parse.ts). */
export function readTelemetry(input: ConfigInput, problems: SettingProblem[]): TelemetryConfig {
  const { otlpEndpoint, otlpProtocol, prometheusOperator } = input.values;
  if (otlpEndpoint !== "" && !isHttpUrl(otlpEndpoint))
    problems.push({ key: input.key("otlpEndpoint"), reason: `${otlpEndpoint} is not an http:// or https:// URL` });
  else if (otlpEndpoint !== "") {
    const extras = baseUrlExtras(new URL(otlpEndpoint));
    if (extras.length > 0)
      problems.push({ key: input.key("otlpEndpoint"), reason: `a collector base URL takes no ${extras.join(" or ")}` });
  }
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(otlpProtocol))
    problems.push({
      key: input.key("otlpProtocol"),
      reason: `${otlpProtocol} is not one of ${OTLP_PROTOCOLS.join(", ")}`,
    });
  return {
    otlpEndpoint: otlpEndpoint === "" ? undefined : otlpEndpoint,
    otlpProtocol: (OTLP_PROTOCOLS as readonly string[]).includes(otlpProtocol)
      ? (otlpProtocol as OtlpProtocol)
      : "http/protobuf",
    prometheusOperator,
  };
}

/**
 * What a collector base URL must not carry: the consumer appends `/v1/traces` to it (the OTLP exporter
 * specification, `specification/protocol/exporter.md`), which a query or fragment would swallow, and the
 * URL is rendered into the Deployment's plain env, where user:password would be a readable credential
 * (send headers through `OTEL_EXPORTER_OTLP_HEADERS` from a Secret instead).
 */
function baseUrlExtras(url: URL): string[] {
  return [
    ...(url.username !== "" || url.password !== "" ? ["user:password (a credential in plain env)"] : []),
    ...(url.search !== "" || url.href.includes("?") ? ["query (it would swallow /v1/traces)"] : []),
    ...(url.hash !== "" || url.href.includes("#") ? ["fragment (it would swallow /v1/traces)"] : []),
  ];
}

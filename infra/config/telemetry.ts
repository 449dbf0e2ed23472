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
  if (otlpEndpoint !== "" && !isHttpUrl(otlpEndpoint)) problems.push({ key: input.key("otlpEndpoint"), reason: `${otlpEndpoint} is not an http:// or https:// URL` });
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(otlpProtocol)) problems.push({ key: input.key("otlpProtocol"), reason: `${otlpProtocol} is not one of ${OTLP_PROTOCOLS.join(", ")}` });
  return {
    otlpEndpoint: otlpEndpoint === "" ? undefined : otlpEndpoint,
    otlpProtocol: (OTLP_PROTOCOLS as readonly string[]).includes(otlpProtocol) ? (otlpProtocol as OtlpProtocol) : "http/protobuf",
    prometheusOperator,
  };
}

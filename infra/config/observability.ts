/**
 * The observability concern: CloudWatch alarms and who is told (ALARM_KEYS), and where traces go and
 * whether the cluster runs the Prometheus Operator (TELEMETRY_KEYS).
 */
import { isHttpUrl, OTLP_PROTOCOLS, type OtlpProtocol, type SettingProblem } from "../../consumer/src/contract";
import type { ConfigInput } from "./parse";

export interface AlarmsConfig {
  /** Email addresses subscribed to the alarm topic. */
  readonly emails: readonly string[];
  /** Oldest-message age that raises the alarm (s); undefined: derived from the handler timeout (infra/alarms.ts). */
  readonly messageAgeSeconds: number | undefined;
  /** With autoscaling: minutes at the most replicas before the alarm fires. */
  readonly maxReplicasMinutes: number;
}

/** A plain address check: SNS rejects what is not an address; this names the bad entry at preview instead. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The alarms' settings; every malformed email is a problem naming it. */
export function readAlarms(input: ConfigInput, problems: SettingProblem[]): AlarmsConfig {
  const { alarmEmails, alarmMessageAgeSeconds, alarmMaxReplicasMinutes } = input.values;
  const bad = alarmEmails.filter((e) => !EMAIL.test(e));
  if (bad.length > 0)
    problems.push({
      key: input.key("alarmEmails"),
      reason: `not email addresses: ${bad.map((e) => JSON.stringify(e)).join(", ")}`,
    });
  const duplicates = alarmEmails.filter((e, i) => alarmEmails.indexOf(e) !== i);
  if (duplicates.length > 0)
    problems.push({ key: input.key("alarmEmails"), reason: `listed twice: ${[...new Set(duplicates)].join(", ")}` });
  // ApproximateAgeOfOldestMessage never reaches the queue's retention: SQS deletes the message first.
  const { messageRetentionSeconds } = input.values;
  if (alarmMessageAgeSeconds !== 0 && alarmMessageAgeSeconds >= messageRetentionSeconds) {
    problems.push({
      key: input.key("alarmMessageAgeSeconds"),
      reason: `${alarmMessageAgeSeconds} is not below messageRetentionSeconds (${messageRetentionSeconds}): messages are deleted before they are that old, so the alarm could never fire`,
    });
  }
  return {
    emails: alarmEmails,
    messageAgeSeconds: alarmMessageAgeSeconds === 0 ? undefined : alarmMessageAgeSeconds,
    maxReplicasMinutes: alarmMaxReplicasMinutes,
  };
}

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

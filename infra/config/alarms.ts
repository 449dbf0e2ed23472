/** The alarms concern (ALARM_KEYS): who is told, and the thresholds a stack may override. */
import type { SettingProblem } from "../../consumer/src/contract";
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

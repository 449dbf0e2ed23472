/**
 * Keys that have an effect only in some configurations (keys.ts: `mode`, a cluster mode, and `appliesWhen`,
 * another key's setting): create-mode network keys, the managed node group's keys (node-group only), the VPC keys that need or exclude `vpcId`,
 * FIFO-only queue keys, autoscaling-only keys, `otlpProtocol`, which needs `otlpEndpoint`, and
 * `allowQueueReplacement`, which only a long-lived stack needs.
 *
 * Where such a key would do nothing, a value other than its default is a problem naming it, not a warning:
 * the stack says something the program would not do (an alarm that is never created, a protocol nothing
 * uses), `pulumi preview` in CI does not fail on warnings, and the fix, `pulumi config rm <key>`, loses
 * nothing. A key left at its default passes: the Pulumi CLI merges Pulumi.yaml's defaults into the config
 * it hands the program, so a default cannot be told apart from an unset key.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import {
  AUTOSCALING_MODES,
  CLUSTER_MODES,
  CONFIG_KEYS,
  CONFIG_KEY_NAMES,
  IDENTITY_MODES,
  NODE_PROVISIONING_MODES,
  QUEUE_TYPES,
  type AppliesWhen,
  type ConfigKeySpec,
  type KeyValues,
} from "./keys";
import type { ConfigInput } from "./parse";

/** Each key's condition, described and evaluated; undefined when the key it reads holds an invalid value (already a problem). */
function evaluate(
  condition: AppliesWhen,
  values: KeyValues,
): { readonly holds: boolean; readonly wanted: string; readonly actual: string } | undefined {
  if ("set" in condition) {
    const value = values[condition.key];
    return {
      holds: (value !== "") === condition.set,
      wanted: `${condition.key} is ${condition.set ? "set" : "empty"}`,
      actual: value === "" ? "empty" : value,
    };
  }
  if (condition.key === "ephemeral") {
    const value = values[condition.key];
    return { holds: value === condition.is, wanted: `${condition.key} is ${condition.is}`, actual: String(value) };
  }
  // nodeProvisioning unset is Auto Mode (cluster.ts).
  const value = condition.key === "nodeProvisioning" ? values.nodeProvisioning || "auto-mode" : values[condition.key];
  const allowed: readonly string[] = {
    autoscaling: AUTOSCALING_MODES,
    identity: IDENTITY_MODES,
    nodeProvisioning: NODE_PROVISIONING_MODES,
    queueType: QUEUE_TYPES,
  }[condition.key];
  if (!allowed.includes(value)) return undefined;
  const wanted: readonly string[] = typeof condition.is === "string" ? [condition.is] : condition.is;
  return { holds: wanted.includes(value), wanted: `${condition.key} is ${wanted.join(" or ")}`, actual: value };
}

/** A problem for each key set away from its default where it has no effect: its cluster mode first, then its `appliesWhen`. */
export function checkKeysApply(input: ConfigInput, problems: SettingProblem[]): void {
  const { values } = input;
  const mode = CLUSTER_MODES.find((candidate) => candidate === values.clusterMode);
  for (const key of CONFIG_KEY_NAMES) {
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    if (JSON.stringify(values[key]) === JSON.stringify(spec.default)) continue;
    if (spec.mode !== undefined) {
      if (mode === undefined) continue;
      if (spec.mode !== mode) {
        problems.push({
          key: input.key(key),
          reason: `applies only when clusterMode is ${spec.mode} (this stack's clusterMode is ${mode}); remove it`,
        });
        continue;
      }
    }
    if (spec.appliesWhen === undefined) continue;
    const condition = evaluate(spec.appliesWhen, values);
    if (condition !== undefined && !condition.holds) {
      problems.push({
        key: input.key(key),
        reason: `applies only when ${condition.wanted} (this stack's ${spec.appliesWhen.key} is ${condition.actual}); remove it`,
      });
    }
  }
}

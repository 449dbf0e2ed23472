/**
 * The workload concern: the consumer pods (WORKLOAD_KEYS: how many, each one's CPU and memory) and what
 * runs in them (the stack's `consumer` block, checked by the consumer's own settings schema through
 * consumer/src/contract, so `pulumi preview` rejects exactly what the consumer would reject at start-up,
 * plus what running on Kubernetes adds).
 */
import { validateTunables, type SettingProblem, type Tunables } from "../../consumer/src/contract";
import { CONSUMER_KEY } from "./keys";
import type { ConfigInput } from "./parse";

/** Probes need a fixed port, and a non-root container without capabilities cannot bind below 1024. */
export const MIN_KUBERNETES_HEALTH_PORT = 1024;

export interface WorkloadConfig {
  readonly replicas: number;
  readonly cpuRequestMillicores: number;
  readonly cpuLimitMillicores: number;
  readonly memoryRequestMiB: number;
  readonly memoryLimitMiB: number;
}

/** The pods' settings; a limit below its request is a problem. */
export function readWorkload(input: ConfigInput, problems: SettingProblem[]): WorkloadConfig {
  const { replicas, cpuRequestMillicores, cpuLimitMillicores, memoryRequestMiB, memoryLimitMiB } = input.values;
  const workload: WorkloadConfig = {
    replicas,
    cpuRequestMillicores,
    cpuLimitMillicores,
    memoryRequestMiB,
    memoryLimitMiB,
  };
  if (workload.cpuLimitMillicores < workload.cpuRequestMillicores) {
    problems.push({
      key: input.key("cpuLimitMillicores"),
      reason: `${workload.cpuLimitMillicores} is below cpuRequestMillicores (${workload.cpuRequestMillicores})`,
    });
  }
  if (workload.memoryLimitMiB < workload.memoryRequestMiB) {
    problems.push({
      key: input.key("memoryLimitMiB"),
      reason: `${workload.memoryLimitMiB} is below memoryRequestMiB (${workload.memoryRequestMiB})`,
    });
  }
  return workload;
}

/** The consumer's tunables, or undefined when the block is not an object or any setting is bad (each a problem). */
export function readConsumerBlock(input: ConfigInput, problems: SettingProblem[]): Tunables | undefined {
  const key = input.key(CONSUMER_KEY);
  const text = input.raw.values[key];
  let block: unknown = {};
  if (text !== undefined && text.trim() !== "") {
    try {
      block = JSON.parse(text);
    } catch {
      block = text;
    }
  }
  if (typeof block !== "object" || block === null || Array.isArray(block)) {
    problems.push({
      key,
      reason: `must be an object of consumer settings (e.g. handlerTimeoutSeconds: 60), got ${JSON.stringify(block)}`,
    });
    return undefined;
  }
  const result = validateTunables(block as Record<string, unknown>, `${key}.`);
  if (!result.ok) {
    problems.push(...result.problems);
    return undefined;
  }
  if (result.value.healthPort < MIN_KUBERNETES_HEALTH_PORT) {
    problems.push({
      key: `${key}.healthPort`,
      reason: `must be at least ${MIN_KUBERNETES_HEALTH_PORT} on Kubernetes (probes need a fixed port; the restricted pod cannot bind below 1024), got ${result.value.healthPort}`,
    });
    return undefined;
  }
  return result.value;
}

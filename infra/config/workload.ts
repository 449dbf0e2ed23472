/** The workload concern (WORKLOAD_KEYS): how many consumer pods, and each pod's CPU and memory. */
import type { SettingProblem } from "../../consumer/src/contract";
import type { ConfigInput } from "./parse";

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

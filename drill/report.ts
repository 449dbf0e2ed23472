// What the drill asserts and prints: the checks (each PASS or FAIL), the figures, the decisions.
import type { Machine } from "../harness";
import { textChart } from "./chart";
import type { PhaseResult } from "./phase";
import type { DrillPlan } from "./plan";

export interface Check {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** The drill's checks, over both runs: nothing lost or handled twice, clean exits on SIGTERM, back to the floor. */
export function drillChecks(plan: DrillPlan, runs: readonly PhaseResult[]): Check[] {
  const checks: Check[] = [];
  for (const run of runs) {
    const { ledger } = run;
    checks.push({
      name: `${run.label}: zero lost`,
      passed: ledger.lost.length === 0 && run.left === 0 && run.deadLettered === 0,
      detail: `${ledger.lost.length} never handled${ledger.lost.length > 0 ? ` (first: ${ledger.lost.slice(0, 5).join(", ")})` : ""}, ${run.left} left in the queue, ${run.deadLettered} in the DLQ`,
    });
    checks.push({
      name: `${run.label}: zero handled twice outside redelivery after a kill`,
      passed: ledger.duplicates.length === 0,
      detail:
        `${ledger.duplicates.length} duplicates, ${ledger.redeliveredAfterKill.length} redelivered after a SIGKILL, ${ledger.handled} handlings of ${plan.messages} messages` +
        (ledger.duplicates.length > 0
          ? `; e.g. index ${ledger.duplicates[0]!.index}: ${JSON.stringify(ledger.duplicates[0]!.handlings)}`
          : ""),
    });
    const terminated = run.pods.filter((p) => p.sigtermAt !== undefined);
    const late = terminated.filter(
      (p) =>
        p.killed ||
        p.exitCode !== 0 ||
        p.exitedAt === undefined ||
        p.exitedAt - p.sigtermAt! > plan.shutdownBudgetSeconds * 1000,
    );
    const slowest = Math.max(0, ...terminated.map((p) => (p.exitedAt ?? Number.NaN) - p.sigtermAt!));
    checks.push({
      name: `${run.label}: every SIGTERM'd pod exits 0 within its ${plan.shutdownBudgetSeconds} s budget`,
      passed: terminated.length > 0 && late.length === 0,
      detail:
        `${terminated.length} terminated, slowest exit ${(slowest / 1000).toFixed(2)} s after SIGTERM` +
        (late.length > 0
          ? `; failed: ${late.map((p) => `${p.name} (code ${p.exitCode}, signal ${p.exitSignal}, killed ${p.killed})`).join(", ")}`
          : ""),
    });
    checks.push({
      name: `${run.label}: no pod exited unasked`,
      passed: run.unexpectedExits.length === 0,
      detail: run.unexpectedExits.map((p) => `${p.name} code ${p.exitCode}`).join(", ") || "none",
    });
  }
  for (const autoscaled of runs.filter((r) => r.kind === "autoscaled")) {
    checks.push({
      name: `${autoscaled.label}: back to minReplicas (${plan.minReplicas}) when quiet`,
      passed: autoscaled.finalReplicas === plan.minReplicas,
      detail: `${autoscaled.finalReplicas} replicas, ${autoscaled.backToMinSeconds?.toFixed(1)} s after the drain`,
    });
    checks.push({
      name: `${autoscaled.label}: never above maxReplicas (${plan.maxReplicas})`,
      passed: autoscaled.peakReplicas <= plan.maxReplicas,
      detail: `peak ${autoscaled.peakReplicas}`,
    });
  }
  const onNodes = runs.find((r) => r.nodesLaunched !== undefined);
  if (onNodes) {
    // The model's own arithmetic: as many nodes as the peak's pods need, never more.
    const needed = Math.ceil(onNodes.peakReplicas / plan.nodes.podsPerNode);
    checks.push({
      name: `${onNodes.label}: launches the nodes the pods need (${plan.nodes.podsPerNode} pods per node), no more`,
      passed: onNodes.nodesLaunched === needed,
      detail: `${onNodes.nodesLaunched} launched for a peak of ${onNodes.peakReplicas} pods`,
    });
  }
  return checks;
}

function decisionLines(run: PhaseResult): string[] {
  return run.decisions.map(
    (d) =>
      `  ${((d.at - run.burstAt) / 1000).toFixed(1).padStart(6)} s  ${d.by.padEnd(4)} ${d.from} -> ${d.to}   (metric ${d.metric.toLocaleString("en-US")})`,
  );
}

/** The printed report: settings, machine and load, figures of each run, the chart, the decisions, the checks. */
export function renderDrillReport(
  plan: DrillPlan,
  machine: Machine,
  loadAtEnd: readonly number[],
  runs: readonly PhaseResult[],
  checks: readonly Check[],
  svgPath: string,
): string {
  const lines: string[] = [];
  lines.push(
    `Scaling drill (${plan.mode}): ${plan.messages.toLocaleString("en-US")} messages in an idle queue at time 0, ${plan.handlerMs} ms handler, then quiet`,
  );
  lines.push(
    `machine: ${machine.cores} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`,
  );
  lines.push(
    `load average (1/5/15 min) at start ${machine.loadAverageAtStart.join(" / ")}, at end ${loadAtEnd.join(" / ")}: the machine is shared; times are this machine's under this load`,
  );
  lines.push(
    `ScaledObject: minReplicaCount ${plan.minReplicas}, maxReplicaCount ${plan.maxReplicas}, queueLength (messagesPerPod) ${plan.trigger.queueLength}, ` +
      `activationQueueLength ${plan.trigger.activationQueueLength}, scaleOnInFlight ${plan.trigger.scaleOnInFlight}, pollingInterval ${plan.pollingIntervalSeconds} s, cooldownPeriod ${plan.cooldownPeriodSeconds} s`,
  );
  lines.push(
    `HPA: sync every ${plan.hpaSyncSeconds} s, tolerance 10%, scale-up ${plan.behavior.scaleUp.policies.map((p) => `${p.type === "Pods" ? `+${p.value} pods` : `+${p.value}%`}/${p.periodSeconds} s`).join(" or ")}, ` +
      `scale-down stabilization ${plan.behavior.scaleDown.stabilizationWindowSeconds} s; pods: shutdown budget ${plan.shutdownBudgetSeconds} s, grace period ${plan.gracePeriodSeconds} s`,
  );
  lines.push("");
  for (const run of runs) {
    lines.push(
      `${run.label}: drained in ${run.drainSeconds.toFixed(1)} s (burst loaded in ${run.loadSeconds.toFixed(1)} s before time 0), peak ${run.peakReplicas} pods, ${run.pods.length} pods started, ` +
        `${run.ledger.visibilityChangedAtShutdown} messages whose visibility shutdown changed, ${run.readFailures} failed queue readings`,
    );
  }
  const [autoscaled, fixed] = [
    runs.find((r) => r.kind === "autoscaled" && r.nodesLaunched === undefined),
    runs.find((r) => r.kind === "fixed"),
  ];
  const onNodes = runs.find((r) => r.nodesLaunched !== undefined);
  if (autoscaled && fixed)
    lines.push(
      `time to drain: autoscaled ${autoscaled.drainSeconds.toFixed(1)} s vs ${fixed.label} ${fixed.drainSeconds.toFixed(1)} s (ratio ${(autoscaled.drainSeconds / fixed.drainSeconds).toFixed(2)})`,
    );
  if (autoscaled && onNodes)
    lines.push(
      `time from the queue's growth to the last pod running: ${autoscaled.lastPodRunningSeconds.toFixed(1)} s on nodes with room, ` +
        `${onNodes.lastPodRunningSeconds.toFixed(1)} s with nodes launched for the pods (${onNodes.nodesLaunched} node${onNodes.nodesLaunched === 1 ? "" : "s"}); ` +
        `time to drain ${autoscaled.drainSeconds.toFixed(1)} s vs ${onNodes.drainSeconds.toFixed(1)} s`,
    );
  if (autoscaled) {
    lines.push(
      "",
      "autoscaled: replicas over time",
      textChart(autoscaled.samples),
      "",
      "scaling decisions (seconds after time 0):",
      ...decisionLines(autoscaled),
    );
  }
  lines.push("", `plot: ${svgPath}`, "", "checks:");
  for (const check of checks) lines.push(`  ${check.passed ? "PASS" : "FAIL"}  ${check.name}: ${check.detail}`);
  const failed = checks.filter((c) => !c.passed).length;
  lines.push(
    "",
    failed === 0 ? `drill passed (${checks.length} checks)` : `drill FAILED: ${failed} of ${checks.length} checks`,
  );
  return lines.join("\n");
}

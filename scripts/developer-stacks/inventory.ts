/**
 * Developer stacks as a backend lists them, and which of them the cleanup job destroys: pure functions over
 * what the Pulumi CLI prints (`pulumi stack ls --all --json`, `pulumi stack output --json`,
 * `pulumi stack export`), so the selection is tested on recorded lists.
 *
 * A developer stack is one whose outputs carry `developerStack` (index.ts; infra/developer-namespace.ts
 * DeveloperStackRecord): its person, platform, namespace, `ttlHours` and its pods' most. It expires when it
 * has gone `ttlHours` without an update (`lastUpdate`): a stack in daily use lives on, a forgotten one goes.
 * A stack with an update in progress, or none ever finished, is never selected.
 */

/** One item of `pulumi stack ls --all --json` (pulumi/pulumi `pkg/cmd/pulumi/stack/stack_ls.go`, stackSummaryJSON). */
export interface StackSummary {
  /** Fully qualified where the backend qualifies it (`<organization>/<project>/<stack>`). */
  readonly name: string;
  /** ISO 8601 time of the last update that finished; absent when none has. */
  readonly lastUpdate?: string;
  readonly updateInProgress?: boolean;
  readonly resourceCount?: number;
}

/** The `developerStack` output (infra/developer-namespace.ts DeveloperStackRecord). */
export interface DeveloperStackRecord {
  readonly person: string;
  readonly platform: string;
  readonly namespace: string;
  readonly ttlHours: number;
  readonly pods: number;
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
}

/** AWS resources a developer stack makes that are billed while they exist, by Pulumi type token. */
export const BILLED_RESOURCE_TYPES: Readonly<Record<string, string>> = {
  "aws:kms/key:Key": "KMS keys",
  "aws:cloudwatch/metricAlarm:MetricAlarm": "alarms",
  "aws:sqs/queue:Queue": "queues",
  "aws:ecr/repository:Repository": "ECR repositories",
};

/** A developer stack with its age and what it costs. */
export interface DeveloperStack {
  readonly name: string;
  readonly record: DeveloperStackRecord;
  /** Hours since the last finished update; undefined when none finished. */
  readonly idleHours: number | undefined;
  /** When it expires (last update + ttlHours); undefined when no update finished. */
  readonly expiresAt: Date | undefined;
  readonly updateInProgress: boolean;
  readonly resourceCount: number;
  /** Billed AWS resources by label (BILLED_RESOURCE_TYPES), when the stack's state was read. */
  readonly billed: Readonly<Record<string, number>>;
}

const HOUR_MS = 3_600_000;

/** Whether a stack output value is a DeveloperStackRecord. */
export function isDeveloperStackRecord(value: unknown): value is DeveloperStackRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.person === "string" &&
    typeof record.platform === "string" &&
    typeof record.namespace === "string" &&
    ["ttlHours", "pods", "cpuMillicores", "memoryMiB"].every((key) => typeof record[key] === "number")
  );
}

/** Billed resources in a stack's exported state (`pulumi stack export`: `deployment.resources[].type`). */
export function billedResources(exported: unknown): Record<string, number> {
  const resources = (exported as { deployment?: { resources?: { type?: string }[] } } | undefined)?.deployment
    ?.resources;
  const counts: Record<string, number> = {};
  for (const resource of resources ?? []) {
    const label = resource.type === undefined ? undefined : BILLED_RESOURCE_TYPES[resource.type];
    if (label !== undefined) counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

/** The developer stacks among `summaries`, given each stack's outputs (and, when read, its exported state). */
export function developerStacks(
  summaries: readonly StackSummary[],
  outputs: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  now: Date,
  exported: ReadonlyMap<string, unknown> = new Map(),
): DeveloperStack[] {
  const stacks: DeveloperStack[] = [];
  for (const summary of summaries) {
    const record = outputs.get(summary.name)?.developerStack;
    if (!isDeveloperStackRecord(record)) continue;
    const last = summary.lastUpdate === undefined ? Number.NaN : Date.parse(summary.lastUpdate);
    const known = Number.isFinite(last);
    stacks.push({
      name: summary.name,
      record,
      idleHours: known ? (now.getTime() - last) / HOUR_MS : undefined,
      expiresAt: known ? new Date(last + record.ttlHours * HOUR_MS) : undefined,
      updateInProgress: summary.updateInProgress === true,
      resourceCount: summary.resourceCount ?? 0,
      billed: billedResources(exported.get(summary.name)),
    });
  }
  return stacks.sort((a, b) => a.name.localeCompare(b.name));
}

/** The stacks the cleanup job destroys: expired at `now`, with no update in progress. */
export function expiredStacks(stacks: readonly DeveloperStack[], now: Date): DeveloperStack[] {
  return stacks.filter(
    (stack) => !stack.updateInProgress && stack.expiresAt !== undefined && stack.expiresAt.getTime() <= now.getTime(),
  );
}

function hours(value: number | undefined): string {
  return value === undefined ? "-" : `${Math.floor(value)} h`;
}

/** The listing: one line per developer stack, with owner, age and cost drivers. */
export function formatStacks(stacks: readonly DeveloperStack[], now: Date): string {
  const header = [
    "STACK",
    "OWNER",
    "PLATFORM",
    "IDLE",
    "TTL",
    "EXPIRES IN",
    "PODS",
    "CPU",
    "MEMORY",
    "BILLED AWS RESOURCES",
  ];
  const rows = stacks.map((stack) => [
    stack.name,
    stack.record.person,
    stack.record.platform,
    stack.updateInProgress ? "updating" : hours(stack.idleHours),
    `${stack.record.ttlHours} h`,
    stack.expiresAt === undefined ? "-" : hours(Math.max(0, (stack.expiresAt.getTime() - now.getTime()) / HOUR_MS)),
    String(stack.record.pods),
    `${stack.record.cpuMillicores}m`,
    `${stack.record.memoryMiB} MiB`,
    Object.entries(stack.billed)
      .map(([label, count]) => `${count} ${label}`)
      .join(", ") || "-",
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** One line of the cleanup log (JSON Lines): what the job did, or would do in a dry run, to one stack. */
export interface CleanupEntry {
  readonly time: string;
  readonly stack: string;
  readonly person: string;
  readonly platform: string;
  readonly idleHours: number;
  readonly ttlHours: number;
  readonly action: "would destroy" | "destroyed" | "failed";
  readonly error?: string;
}

/** The log entry for one expired stack. */
export function cleanupEntry(
  stack: DeveloperStack,
  now: Date,
  action: CleanupEntry["action"],
  error?: string,
): CleanupEntry {
  return {
    time: now.toISOString(),
    stack: stack.name,
    person: stack.record.person,
    platform: stack.record.platform,
    idleHours: Math.floor(stack.idleHours ?? 0),
    ttlHours: stack.record.ttlHours,
    action,
    ...(error === undefined ? {} : { error }),
  };
}

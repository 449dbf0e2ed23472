/**
 * Developer stacks as a backend lists them, and which of them the cleanup job destroys: pure functions over
 * what the Pulumi CLI prints (`pulumi stack ls --all --json`, `pulumi stack output --json`,
 * `pulumi stack export`), so the selection is tested on recorded lists.
 *
 * A developer stack is found by its name, not by anything in its state: a stack of the project named
 * `<person>` or `<person>-<anything>` for a person the platform lists (its directory, infra/developer-access.ts),
 * which is the only name the platform's admission policy lets that person's stacks deploy under. So a stack
 * whose first update failed before it had outputs is found too. Its `developerStack` output
 * (infra/developer-namespace.ts DeveloperStackRecord), written by the developer, is read only for what the
 * developer may decide anyway (`ttlHours`, and the pods' most for the listing), and only when it names the
 * person the stack's name does; otherwise the stack gets DEFAULT_TTL_HOURS.
 * A stack expires when it has gone `ttlHours` without an update (`lastUpdate`): a stack in daily use lives
 * on, a forgotten one goes. A stack with an update in progress, or none ever run, is never selected.
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

/** The ttlHours of a stack whose output does not say (infra/config/keys.ts `ttlHours`, its default). */
export const DEFAULT_TTL_HOURS = 72;

/** A developer stack with its age and what it costs. */
export interface DeveloperStack {
  /** As the backend names it (`<organization>/<project>/<stack>` where it qualifies names). */
  readonly name: string;
  /** The stack's own name (the last part of `name`). */
  readonly stack: string;
  /** The person the stack's name says it belongs to. */
  readonly person: string;
  /** Its `developerStack` output, when present and naming `person`. */
  readonly record: DeveloperStackRecord | undefined;
  readonly ttlHours: number;
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

/** The stack's own name: the last part of a qualified name. */
export function stackOf(name: string): string {
  return name.split("/").at(-1) ?? name;
}

/**
 * The person a stack belongs to by its name (`<person>` or `<person>-<anything>`), among `people`; undefined
 * when the name is no listed person's.
 */
export function personOfStack(stack: string, people: readonly string[]): string | undefined {
  const person = stack.split("-")[0] ?? "";
  return people.includes(person) ? person : undefined;
}

/**
 * The developer stacks among `summaries`: those named after one of `people`, given each stack's outputs (and,
 * when read, its exported state).
 */
export function developerStacks(
  summaries: readonly StackSummary[],
  people: readonly string[],
  outputs: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  now: Date,
  exported: ReadonlyMap<string, unknown> = new Map(),
): DeveloperStack[] {
  const stacks: DeveloperStack[] = [];
  for (const summary of summaries) {
    const stack = stackOf(summary.name);
    const person = personOfStack(stack, people);
    if (person === undefined) continue;
    const output = outputs.get(summary.name)?.developerStack;
    const record = isDeveloperStackRecord(output) && output.person === person ? output : undefined;
    const ttlHours = record?.ttlHours ?? DEFAULT_TTL_HOURS;
    const last = summary.lastUpdate === undefined ? Number.NaN : Date.parse(summary.lastUpdate);
    const known = Number.isFinite(last);
    stacks.push({
      name: summary.name,
      stack,
      person,
      record,
      ttlHours,
      idleHours: known ? (now.getTime() - last) / HOUR_MS : undefined,
      expiresAt: known ? new Date(last + ttlHours * HOUR_MS) : undefined,
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
    stack.person,
    stack.record?.platform ?? "-",
    stack.updateInProgress ? "updating" : hours(stack.idleHours),
    `${stack.ttlHours} h`,
    stack.expiresAt === undefined ? "-" : hours(Math.max(0, (stack.expiresAt.getTime() - now.getTime()) / HOUR_MS)),
    stack.record === undefined ? "-" : String(stack.record.pods),
    stack.record === undefined ? "-" : `${stack.record.cpuMillicores}m`,
    stack.record === undefined ? "-" : `${stack.record.memoryMiB} MiB`,
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
  readonly idleHours: number;
  readonly ttlHours: number;
  readonly action: "would destroy" | "destroyed" | "failed" | "skipped";
  /** What was deleted, or would be in a dry run: `<kind> <name or ARN>`. */
  readonly deleted?: readonly string[];
  /** Why it failed or was skipped (a lock, the time budget, a refused deletion). */
  readonly error?: string;
}

/** The log entry for one expired stack. */
export function cleanupEntry(
  stack: DeveloperStack,
  now: Date,
  action: CleanupEntry["action"],
  details: { readonly deleted?: readonly string[]; readonly error?: string } = {},
): CleanupEntry {
  return {
    time: now.toISOString(),
    stack: stack.name,
    person: stack.person,
    idleHours: Math.floor(stack.idleHours ?? 0),
    ttlHours: stack.ttlHours,
    action,
    ...(details.deleted === undefined ? {} : { deleted: details.deleted }),
    ...(details.error === undefined ? {} : { error: details.error }),
  };
}

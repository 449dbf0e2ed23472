// `npm run developer-stacks -- list [--project <name>]`: every developer stack in the logged-in Pulumi backend,
// with its owner, how long it has been idle, when it expires, and what it costs (its pods' most, the billed
// AWS resources in its state).
//
// `npm run developer-stacks -- cleanup --cluster <name> [--dry-run] [--log <file>] [--now <time>]
// [--budget-minutes <n>] [--person <person>] [--project ...]`: deletes every developer stack idle for longer than its ttlHours,
// one at a time: its namespace on the cluster, its AWS resources, then its state (`pulumi stack rm --force`).
// It never runs `pulumi destroy`: that would run providers configured by the stack's state, which its
// developer writes, with the job's credentials (scripts/developer-stacks/cleanup-plan.ts says what it deletes
// and why that is the stack's). With --dry-run it only says what it would delete. Each decision is printed
// and, with --log, appended to the file as one JSON line (inventory.ts CleanupEntry). --now judges expiry as
// of another time (ISO 8601). --budget-minutes (default 40) bounds the run: no stack is started once it is
// spent, and no call outlasts it, so the job's timeout never kills a deletion half-way; what is left is
// logged as skipped and taken by the next run. --person keeps to one person's stacks (with a --now far
// ahead: all of them, before the person leaves the list).
//
// Developer stacks are found by name: `<person>` or `<person>-*` for a person in the platform's directory
// (the ConfigMap kube-public/<project>-developers, read with kubectl). It runs the `pulumi` on PATH, logged
// in to the backend, `kubectl` with a context for the cluster, and `aws` with credentials that may delete
// developer stacks' resources (docs/DEPLOY.md, "Cleanup: ttlHours, and the listing"). Every call has a
// deadline. Exit codes: 0 done, 1 a call or a deletion failed, 64 bad usage.
import { execFile } from "node:child_process";
import { appendFile } from "node:fs/promises";
import { parseArgs, promisify } from "node:util";
import { PROJECT } from "../infra/config/keys";
import { DIRECTORY_KEY, DIRECTORY_NAMESPACE, PERSON_LABEL, developerAccessNames } from "../infra/developer-access";
import {
  alreadyGone,
  awsDeletions,
  stackNamespace,
  tagFilters,
  type FoundAssociation,
  type FoundRole,
  type StackScope,
  type TaggedResource,
} from "./developer-stacks/cleanup-plan";
import {
  cleanupEntry,
  developerStacks,
  expiredStacks,
  formatStacks,
  type CleanupEntry,
  type DeveloperStack,
  type StackSummary,
} from "./developer-stacks/inventory";

const USAGE =
  "usage: npm run developer-stacks -- list|cleanup [--cluster <EKS cluster>] [--region <region>] [--dry-run] [--log <file>] [--now <ISO 8601 time>] [--budget-minutes <n>] [--person <person>] [--project <name>]";
const EXIT_USAGE = 64;
const MINUTE = 60_000;
/** Deadlines of the calls: listing and reading are quick; a namespace's deletion waits on its finalizers. */
const DEADLINES = { read: 2 * MINUTE, export: 5 * MINUTE, delete: 5 * MINUTE, namespace: 15 * MINUTE } as const;
/** A stack is started only with this much of the budget left: its namespace's deletion may take that long. */
const STACK_MINIMUM_MS = DEADLINES.namespace;

const run = promisify(execFile);

/** The time left of the run's budget; every call's deadline is at most that. */
class Budget {
  constructor(private readonly endsAt: number) {}
  left(): number {
    return this.endsAt - Date.now();
  }
  deadline(wanted: number): number {
    return Math.max(1000, Math.min(wanted, this.left()));
  }
}

/** The run's budget (main sets it from --budget-minutes): no call outlasts it. */
let budget = new Budget(Number.POSITIVE_INFINITY);

async function command(program: string, args: readonly string[], timeout: number): Promise<string> {
  const { stdout } = await run(program, [...args], {
    timeout: budget.deadline(timeout),
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
  });
  return stdout;
}

const pulumi = (args: readonly string[], timeout: number) => command("pulumi", [...args, "--non-interactive"], timeout);
const aws = async (args: readonly string[], timeout: number) =>
  JSON.parse((await command("aws", [...args, "--output", "json"], timeout)) || "{}") as Record<string, unknown>;
const kubectl = (args: readonly string[], timeout: number) => command("kubectl", args, timeout);

/** The people the platform lists, from its directory on the cluster (what its admission policy admits). */
async function people(project: string): Promise<string[]> {
  const names = developerAccessNames(project);
  const configMap = JSON.parse(
    await kubectl(
      ["get", "configmap", names.directory, "--namespace", DIRECTORY_NAMESPACE, "--output", "json"],
      DEADLINES.read,
    ),
  ) as { data?: Record<string, string> };
  const directory = JSON.parse(configMap.data?.[DIRECTORY_KEY] ?? "{}") as { developers?: { person: string }[] };
  return (directory.developers ?? []).map((developer) => developer.person);
}

/** The developer stacks of `project`: those named after a listed person. */
async function inventory(project: string, now: Date, withState: boolean): Promise<DeveloperStack[]> {
  const listed = await people(project);
  const summaries = (JSON.parse(await pulumi(["stack", "ls", "--all", "--json"], DEADLINES.read)) as StackSummary[])
    // A qualified name carries the project as its middle part; a bare name belongs to the current project.
    .filter((summary) => {
      const parts = summary.name.split("/");
      return parts.length < 3 || parts[1] === project;
    });
  const candidates = developerStacks(summaries, listed, new Map(), now);
  const outputs = new Map<string, Record<string, unknown>>();
  const exported = new Map<string, unknown>();
  for (const stack of candidates) {
    outputs.set(
      stack.name,
      JSON.parse(await pulumi(["stack", "output", "--json", "--stack", stack.name], DEADLINES.read)) as Record<
        string,
        unknown
      >,
    );
    if (withState) {
      exported.set(stack.name, JSON.parse(await pulumi(["stack", "export", "--stack", stack.name], DEADLINES.export)));
    }
  }
  return developerStacks(
    summaries.filter((summary) => candidates.some((stack) => stack.name === summary.name)),
    listed,
    outputs,
    now,
    exported,
  );
}

/** What the job deletes of one stack in Kubernetes: its namespace, when it carries the stack's person. */
async function namespaceToDelete(scope: StackScope): Promise<string | undefined> {
  const name = stackNamespace(scope);
  let found: { metadata?: { labels?: Record<string, string> } };
  try {
    found = JSON.parse(await kubectl(["get", "namespace", name, "--output", "json"], DEADLINES.read)) as typeof found;
  } catch (error) {
    if (alreadyGone((error as Error).message)) return undefined;
    throw error;
  }
  if (found.metadata?.labels?.[PERSON_LABEL] !== scope.person) {
    throw new Error(`namespace ${name} does not carry ${PERSON_LABEL}=${scope.person}; left alone`);
  }
  return name;
}

/** What the job deletes of one stack in AWS (cleanup-plan.ts `awsDeletions`), found by tags, names and namespace. */
async function awsPlan(scope: StackScope) {
  const tagged = (
    await aws(
      ["resourcegroupstaggingapi", "get-resources", "--tag-filters", ...tagFilters(scope), "--region", scope.region],
      DEADLINES.read,
    )
  ).ResourceTagMappingList as TaggedResource[] | undefined;
  const listedRoles = ((await aws(["iam", "list-roles"], DEADLINES.read)).Roles ?? []) as {
    RoleName: string;
    Arn: string;
  }[];
  const roles: FoundRole[] = [];
  for (const role of listedRoles.filter((r) => r.RoleName.startsWith(`${scope.project}-${scope.person}`))) {
    const tags = ((await aws(["iam", "list-role-tags", "--role-name", role.RoleName], DEADLINES.read)).Tags ??
      []) as FoundRole["tags"];
    const inlinePolicies = ((await aws(["iam", "list-role-policies", "--role-name", role.RoleName], DEADLINES.read))
      .PolicyNames ?? []) as string[];
    roles.push({ name: role.RoleName, arn: role.Arn, tags, inlinePolicies });
  }
  const associations = ((
    await aws(
      [
        "eks",
        "list-pod-identity-associations",
        "--cluster-name",
        scope.cluster,
        "--namespace",
        stackNamespace(scope),
        "--region",
        scope.region,
      ],
      DEADLINES.read,
    )
  ).associations ?? []) as FoundAssociation[];
  return awsDeletions(scope, tagged ?? [], roles, associations);
}

/** Deletes one expired stack (or, in a dry run, says what it would delete). */
async function cleanStack(
  stack: DeveloperStack,
  context: { project: string; cluster: string; region: string; dryRun: boolean },
): Promise<CleanupEntry> {
  const scope: StackScope = {
    project: context.project,
    stack: stack.stack,
    person: stack.person,
    cluster: context.cluster,
    region: context.region,
  };
  const deleted: string[] = [];
  try {
    const namespace = await namespaceToDelete(scope);
    const plan = await awsPlan(scope);
    for (const skipped of plan.skipped) console.log(`  left alone: ${skipped}`);
    const what = [...(namespace === undefined ? [] : [`namespace ${namespace}`]), ...plan.deletions.map((d) => d.what)];
    if (context.dryRun)
      return cleanupEntry(stack, new Date(), "would destroy", { deleted: [...what, `state ${stack.name}`] });
    if (namespace !== undefined) {
      const timeout = budget.deadline(DEADLINES.namespace);
      await kubectl(
        ["delete", "namespace", namespace, "--wait=true", `--timeout=${Math.floor(timeout / 1000)}s`],
        timeout,
      );
      deleted.push(`namespace ${namespace}`);
    }
    for (const deletion of plan.deletions) {
      try {
        await aws(deletion.argv, DEADLINES.delete);
      } catch (error) {
        if (!alreadyGone((error as Error).message)) throw error;
      }
      deleted.push(deletion.what);
    }
    await pulumi(["stack", "rm", "--force", "--yes", "--stack", stack.name], DEADLINES.read);
    deleted.push(`state ${stack.name}`);
    return cleanupEntry(stack, new Date(), "destroyed", { deleted });
  } catch (error) {
    const message = ((error as Error).message.split("\n").find((line) => /error|lock/i.test(line)) ??
      (error as Error).message.split("\n")[0]) as string;
    return cleanupEntry(stack, new Date(), "failed", { deleted, error: message });
  }
}

async function cleanup(
  stacks: readonly DeveloperStack[],
  now: Date,
  options: {
    project: string;
    cluster: string;
    region: string;
    dryRun: boolean;
    log: string | undefined;
  },
) {
  let failed = false;
  const expired = expiredStacks(stacks, now);
  if (expired.length === 0) console.log(`no developer stack has expired (${stacks.length} checked)`);
  for (const stack of expired) {
    const entry =
      budget.left() < STACK_MINIMUM_MS
        ? cleanupEntry(stack, new Date(), "skipped", { error: "the run's time budget is spent; the next run takes it" })
        : await cleanStack(stack, options);
    if (entry.action === "failed") failed = true;
    console.log(
      `${entry.action}: ${entry.stack} (${entry.person}, idle ${entry.idleHours} h, ttl ${entry.ttlHours} h)${entry.deleted === undefined ? "" : `: ${entry.deleted.join(", ")}`}${entry.error === undefined ? "" : `: ${entry.error}`}`,
    );
    if (options.log !== undefined) await appendFile(options.log, `${JSON.stringify(entry)}\n`);
  }
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        "dry-run": { type: "boolean", default: false },
        log: { type: "string" },
        project: { type: "string", default: PROJECT },
        cluster: { type: "string" },
        region: { type: "string", default: process.env.AWS_REGION ?? "" },
        "budget-minutes": { type: "string", default: "40" },
        person: { type: "string" },
        now: { type: "string" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const [command, ...extra] = parsed.positionals;
  if ((command !== "list" && command !== "cleanup") || extra.length > 0) {
    console.error(USAGE);
    return EXIT_USAGE;
  }
  const { values } = parsed;
  const now = values.now === undefined ? new Date() : new Date(values.now);
  if (Number.isNaN(now.getTime())) {
    console.error(`--now ${values.now}: not an ISO 8601 time\n${USAGE}`);
    return EXIT_USAGE;
  }
  const budgetMinutes = Number(values["budget-minutes"]);
  if (!(budgetMinutes > 0)) {
    console.error(`--budget-minutes ${values["budget-minutes"]}: not a positive number of minutes\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (command === "cleanup" && (values.cluster === undefined || values.region === "")) {
    console.error(`cleanup needs --cluster and --region (or AWS_REGION)\n${USAGE}`);
    return EXIT_USAGE;
  }
  budget = new Budget(Date.now() + budgetMinutes * MINUTE);
  try {
    const stacks = (await inventory(values.project, now, command === "list")).filter(
      (stack) => values.person === undefined || stack.person === values.person,
    );
    if (command === "list") {
      console.log(formatStacks(stacks, now));
      return 0;
    }
    return await cleanup(stacks, now, {
      project: values.project,
      cluster: values.cluster ?? "",
      region: values.region,
      dryRun: values["dry-run"],
      log: values.log,
    });
  } catch (error) {
    console.error(`a call failed: ${(error as Error).message}`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

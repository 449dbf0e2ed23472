// `npm run developer-stacks -- list [--project <name>] [--platform <org/project/stack>]`: every developer
// stack in the logged-in Pulumi backend, with its owner, how long it has been idle, when it expires, and what
// it costs (its pods' most, the billed AWS resources in its state).
//
// `npm run developer-stacks -- cleanup [--dry-run] [--log <file>] [--now <time>] [--project ...] [--platform ...]`: destroys
// and removes every developer stack idle for longer than its ttlHours (`pulumi destroy --yes --remove`),
// one at a time; with --dry-run it only says what it would destroy. Each decision is printed and, with
// --log, appended to the file as one JSON line (scripts/developer-stacks/inventory.ts CleanupEntry). --now
// judges expiry as of another time (ISO 8601), e.g. a dry run of what Monday's job will take.
// Run it where the cluster's API endpoint answers: a destroy deletes the stack's Kubernetes objects.
//
// It runs the `pulumi` on PATH, already logged in to the backend, with credentials that may destroy the
// stacks (docs/DEPLOY.md, "Developer stacks"). Every call has a deadline. Exit codes: 0 done, 1 a pulumi
// call or a destroy failed, 64 bad usage.
import { execFile } from "node:child_process";
import { appendFile } from "node:fs/promises";
import { parseArgs, promisify } from "node:util";
import { PROJECT } from "../infra/config/keys";
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
  "usage: npm run developer-stacks -- list|cleanup [--dry-run] [--log <file>] [--now <ISO 8601 time>] [--project <name>] [--platform <org/project/stack>]";
const EXIT_USAGE = 64;
const MINUTE = 60_000;
/** Deadlines of the pulumi calls: listing and reading are quick; a destroy waits on AWS and Kubernetes. */
const DEADLINES = { read: 2 * MINUTE, export: 5 * MINUTE, destroy: 60 * MINUTE } as const;

const run = promisify(execFile);

async function pulumi(args: readonly string[], timeout: number): Promise<string> {
  const { stdout } = await run("pulumi", [...args, "--non-interactive"], {
    timeout,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
  });
  return stdout;
}

/** The stacks of `project` (and, given one, borrowing `platform`) that are developer stacks. */
async function inventory(
  project: string,
  platform: string | undefined,
  now: Date,
  withState: boolean,
): Promise<DeveloperStack[]> {
  const summaries = (JSON.parse(await pulumi(["stack", "ls", "--all", "--json"], DEADLINES.read)) as StackSummary[])
    // A qualified name carries the project as its middle part; a bare name belongs to the current project.
    .filter((summary) => {
      const parts = summary.name.split("/");
      return parts.length < 3 || parts[1] === project;
    });
  const outputs = new Map<string, Record<string, unknown>>();
  const exported = new Map<string, unknown>();
  for (const summary of summaries) {
    outputs.set(
      summary.name,
      JSON.parse(await pulumi(["stack", "output", "--json", "--stack", summary.name], DEADLINES.read)) as Record<
        string,
        unknown
      >,
    );
  }
  const stacks = developerStacks(summaries, outputs, now).filter(
    (stack) => platform === undefined || stack.record.platform === platform,
  );
  if (!withState) return stacks;
  for (const stack of stacks) {
    exported.set(stack.name, JSON.parse(await pulumi(["stack", "export", "--stack", stack.name], DEADLINES.export)));
  }
  return developerStacks(
    summaries.filter((summary) => stacks.some((stack) => stack.name === summary.name)),
    outputs,
    now,
    exported,
  );
}

async function cleanup(stacks: readonly DeveloperStack[], now: Date, dryRun: boolean, log: string | undefined) {
  let failed = false;
  const expired = expiredStacks(stacks, now);
  if (expired.length === 0) console.log(`no developer stack has expired (${stacks.length} checked)`);
  for (const stack of expired) {
    let entry: CleanupEntry;
    if (dryRun) {
      entry = cleanupEntry(stack, now, "would destroy");
    } else {
      try {
        await pulumi(["destroy", "--yes", "--remove", "--skip-preview", "--stack", stack.name], DEADLINES.destroy);
        entry = cleanupEntry(stack, new Date(), "destroyed");
      } catch (error) {
        failed = true;
        entry = cleanupEntry(stack, new Date(), "failed", (error as Error).message.split("\n")[0]);
      }
    }
    console.log(
      `${entry.action}: ${entry.stack} (${entry.person}, idle ${entry.idleHours} h, ttl ${entry.ttlHours} h)${entry.error === undefined ? "" : `: ${entry.error}`}`,
    );
    if (log !== undefined) await appendFile(log, `${JSON.stringify(entry)}\n`);
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
        platform: { type: "string" },
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
  try {
    const stacks = await inventory(values.project, values.platform, now, command === "list");
    if (command === "list") {
      console.log(formatStacks(stacks, now));
      return 0;
    }
    return await cleanup(stacks, now, values["dry-run"], values.log);
  } catch (error) {
    console.error(`pulumi failed: ${(error as Error).message}`);
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

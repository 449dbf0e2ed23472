/**
 * docs/DEPLOY.md's bootstrap, run literally: every command block of the walk-through, in order, in one bash
 * session, with stand-ins for the tools that would reach AWS, GitHub or the network (`aws`, `pulumi`, `gh`,
 * `git`, `curl`; `npm ci` and the chart mirror), which record their arguments. What the walk-through creates
 * is then judged by what the program and the CI code accept: the roles the generated script creates are
 * the ones ci/roles.ts builds, the stacks' config passes the program's validation and gives the CI roles
 * their access entries, the runner stacks' config passes its validation and names the workflows and stacks
 * the workflow files use, and the branch protection requires the jobs the workflows define.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { RUNNER_PROJECT, parseRunnerConfig } from "../../ci/runner/config";
import { boundaryPolicyName, deployRole, permissionsBoundary, previewRole, type CiSettings } from "../../ci/roles";
import { PROJECT, parseStackConfig } from "../../infra/config";
import { ORGANIZATION, REPO_ROOT, cliConfig, stackFileValues } from "../helpers/program";

const run = promisify(execFile);

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const REPOSITORY = "example/sqs-eks-consumer";
const KEY_ARN = (stack: string) =>
  `arn:aws:kms:${REGION}:${ACCOUNT}:key/${stack === "dev" ? "1111" : "2222"}1111-1111-1111-1111-111111111111`;
const CONNECTION_ARN = `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/0ec8a2f6-0000-4000-8000-000000000009`;
const MY_ADDRESS = "198.51.100.23";
/** Files the walk-through writes in the repository's root. */
const GENERATED = ["ci-settings.json", "create-ci-roles.sh"];

/** The fenced shell block after `<!-- name -->`. */
function block(doc: string, name: string): string {
  const match = new RegExp(`<!-- ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(doc);
  assert.ok(match, `no <!-- ${name} --> block in docs/DEPLOY.md`);
  return match[1]!;
}

/**
 * A stand-in for a tool: appends its arguments to the log (fields separated by U+001F, calls by U+001E),
 * then prints what the walk-through reads from it.
 */
const STAND_IN = (tool: string, answers: string) => `#!/usr/bin/env bash
{ printf '%s\\x1f' ${JSON.stringify(tool)} "$@"; printf '\\x1e'; } >> "$STAND_IN_LOG"
args="$*"
${answers}
exit 0
`;

const STAND_INS: Record<string, string> = {
  aws: STAND_IN(
    "aws",
    `case "$args" in
  "sts get-caller-identity"*) echo ${ACCOUNT} ;;
  *"kms create-key"*"sqs-eks-consumer/dev"*) echo ${KEY_ARN("dev")} ;;
  *"kms create-key"*"sqs-eks-consumer/prod"*) echo ${KEY_ARN("prod")} ;;
  *"codeconnections create-connection"*) echo ${CONNECTION_ARN} ;;
esac`,
  ),
  pulumi: STAND_IN("pulumi", ""),
  // gh api --input - reads the request body from stdin: recorded as one more call, `gh-input <body>`.
  gh: STAND_IN(
    "gh",
    `case "$args" in
  "api user --jq .id") echo 4242 ;;
  *"--input -"*) { printf '%s\\x1f' gh-input "$(cat)"; printf '\\x1e'; } >> "$STAND_IN_LOG" ;;
esac`,
  ),
  git: STAND_IN("git", ""),
  curl: STAND_IN("curl", `echo ${MY_ADDRESS}`),
  // npm ci and the chart mirror reach the network; every other npm command runs for real.
  npm: `#!/usr/bin/env bash
if [ "$1" = "ci" ] || [ "$2" = "keda-chart:mirror" ]; then
  { printf '%s\\x1f' npm "$@"; printf '\\x1e'; } >> "$STAND_IN_LOG"
  exit 0
fi
exec "$REAL_NPM" "$@"
`,
};

/** Recorded calls, as argument lists with the tool first. */
function calls(log: string): string[][] {
  return log
    .split("\u001e")
    .filter(Boolean)
    .map((call) => call.split("\u001f").slice(0, -1));
}

let recorded: string[][];
let settings: CiSettings;
let rolesScript: string;

before(async () => {
  const doc = await readFile(path.join(REPO_ROOT, "docs", "DEPLOY.md"), "utf8");
  const names = ["shell", "state", "secrets", "oidc", "roles", "chart", "connection", "first-up", "runners", "github"];
  const script = names.map((name) => block(doc, `bootstrap-${name}`)).join("\n");
  const dir = await mkdtemp(path.join(tmpdir(), "bootstrap-"));
  const bin = path.join(dir, "bin");
  const log = path.join(dir, "calls.log");
  try {
    await writeFile(log, "");
    await run("mkdir", ["-p", bin]);
    for (const [tool, body] of Object.entries(STAND_INS)) {
      await writeFile(path.join(bin, tool), body);
      await chmod(path.join(bin, tool), 0o755);
    }
    const realNpm = (await run("bash", ["-c", "command -v npm"])).stdout.trim();
    const filled = script.replace("<region>", REGION).replace("<owner>/<repo>", REPOSITORY);
    await run("bash", ["-euo", "pipefail", "-c", filled], {
      cwd: REPO_ROOT,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, STAND_IN_LOG: log, REAL_NPM: realNpm },
      maxBuffer: 16 * 1024 * 1024,
    });
    recorded = calls(await readFile(log, "utf8"));
    settings = JSON.parse(await readFile(path.join(REPO_ROOT, "ci-settings.json"), "utf8")) as CiSettings;
    rolesScript = await readFile(path.join(REPO_ROOT, "create-ci-roles.sh"), "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
    for (const file of GENERATED) await rm(path.join(REPO_ROOT, file), { force: true });
  }
});

/** The stacks' config after the walk-through's `pulumi config` commands, the way the CLI would keep it. */
async function stacksAfterWalkthrough(): Promise<{
  main: Map<string, Record<string, unknown>>;
  runner: Map<string, Record<string, unknown>>;
}> {
  const main = new Map<string, Record<string, unknown>>();
  const runner = new Map<string, Record<string, unknown>>();
  const selected = { main: "", runner: "" };
  for (const call of recorded.filter(([tool]) => tool === "pulumi")) {
    let args = call.slice(1);
    const inRunner = args[0] === "-C" && args[1] === "ci/runner";
    if (inRunner) args = args.slice(2);
    const stacks = inRunner ? runner : main;
    const project = inRunner ? RUNNER_PROJECT : PROJECT;
    const which = inRunner ? "runner" : "main";
    const [command, sub, ...rest] = args;
    if (command === "stack" && (sub === "init" || sub === "select")) {
      selected[which] = rest[0]!;
      if (!stacks.has(selected[which]))
        stacks.set(selected[which], !inRunner && selected[which] === "dev" ? await stackFileValues("dev") : {});
    } else if (command === "config" && sub === "set") {
      const byPath = rest[0] === "--path";
      const [name, value] = byPath ? rest.slice(1) : rest;
      const key = name!.includes(":") ? name!.replace(/\[\d+\]$/, "") : `${project}:${name!.replace(/\[\d+\]$/, "")}`;
      const values = stacks.get(selected[which])!;
      if (byPath) {
        const index = Number(/\[(\d+)\]$/.exec(name!)?.[1]);
        const list = [...((values[key] as string[] | undefined) ?? [])];
        list[index] = value!;
        values[key] = list;
      } else {
        values[key] = value!;
      }
    } else if (command === "config" && sub === "rm") {
      const values = stacks.get(selected[which])!;
      const key = `${project}:${rest[0]!}`;
      assert.ok(key in values, `pulumi config rm ${rest[0]!}: not set on ${selected[which]}`);
      delete values[key];
    } else {
      assert.ok(
        ["up", "login"].includes(command!) || (command === "stack" && sub === "select"),
        `unexpected: pulumi ${args.join(" ")}`,
      );
    }
  }
  return { main, runner };
}

describe("docs/DEPLOY.md, bootstrap", () => {
  it("creates exactly the roles and the boundary ci/roles.ts builds for the settings it writes", () => {
    assert.deepEqual(settings, {
      repository: REPOSITORY,
      account: ACCOUNT,
      region: REGION,
      stateBucket: `sqs-eks-consumer-state-${ACCOUNT}`,
      project: "sqs-eks-consumer",
      previewStack: "dev",
      deployStack: "prod",
      stackKeys: { dev: KEY_ARN("dev"), prod: KEY_ARN("prod") },
      deployEnvironment: "production",
      permissionsBoundaryArn: `arn:aws:iam::${ACCOUNT}:policy/${boundaryPolicyName("sqs-eks-consumer")}`,
    });
    const iam = recorded.filter(([tool, service]) => tool === "aws" && service === "iam");
    const value = (call: string[], flag: string) => call[call.indexOf(flag) + 1]!;
    const boundary = iam.find(
      (call) => call[2] === "create-policy" && value(call, "--policy-name") === boundaryPolicyName("sqs-eks-consumer"),
    );
    assert.ok(boundary, "the boundary policy is created");
    assert.deepEqual(JSON.parse(value(boundary, "--policy-document")), permissionsBoundary(settings));
    for (const role of [previewRole(settings), deployRole(settings)]) {
      const create = iam.find((call) => call[2] === "create-role" && value(call, "--role-name") === role.name);
      assert.ok(create, role.name);
      assert.equal(Number(value(create, "--max-session-duration")), role.maxSessionDurationSeconds);
      assert.deepEqual(JSON.parse(value(create, "--assume-role-policy-document")), role.trust);
      role.policies.forEach((policy, i) => {
        const name = `${role.name}-${i}`;
        const created = iam.find((call) => call[2] === "create-policy" && value(call, "--policy-name") === name);
        assert.ok(created, name);
        assert.deepEqual(JSON.parse(value(created, "--policy-document")), policy);
        assert.ok(
          iam.some(
            (call) =>
              call[2] === "attach-role-policy" &&
              value(call, "--role-name") === role.name &&
              value(call, "--policy-arn") === `arn:aws:iam::${ACCOUNT}:policy/${name}`,
          ),
          `${name} is attached`,
        );
      });
    }
    assert.match(rolesScript, /^#!\/usr\/bin\/env bash\n/);
  });

  it("gives the stacks configurations the program accepts, with the CI roles' cluster access", async () => {
    const { main } = await stacksAfterWalkthrough();
    assert.deepEqual([...main.keys()].sort(), ["dev", "prod"]);
    for (const [stack, values] of main) {
      const parsed = parseStackConfig({
        project: PROJECT,
        stack,
        organization: ORGANIZATION,
        values: await cliConfig(values as Parameters<typeof cliConfig>[0]),
      });
      assert.ok(parsed.ok, `${stack}: ${parsed.ok ? "" : JSON.stringify(parsed.problems)}`);
    }
    assert.equal(
      main.get("prod")![`${PROJECT}:ciDeployRoleArn`],
      `arn:aws:iam::${ACCOUNT}:role/${deployRole(settings).name}`,
    );
    assert.equal(
      main.get("dev")![`${PROJECT}:ciPreviewRoleArn`],
      `arn:aws:iam::${ACCOUNT}:role/${previewRole(settings).name}`,
    );
    assert.equal(
      main.get("prod")![`${PROJECT}:endpointPublicAccessCidrs`],
      undefined,
      "prod ends with a private endpoint",
    );
    assert.deepEqual(main.get("dev")![`${PROJECT}:endpointPublicAccessCidrs`], [`${MY_ADDRESS}/32`]);
  });

  it("gives the runners configurations they accept, for the stacks and workflows the workflow files use", async () => {
    const { runner } = await stacksAfterWalkthrough();
    const workflows = await Promise.all(
      ["preview.yml", "deploy.yml"].map(
        async (file) =>
          parse(await readFile(path.join(REPO_ROOT, ".github", "workflows", file), "utf8")) as {
            name: string;
            jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }>;
          },
      ),
    );
    const expected = new Map(
      workflows.flatMap((workflow) =>
        Object.values(workflow.jobs).flatMap((job) =>
          job.steps
            .filter((step) => step.uses?.startsWith("pulumi/actions@"))
            .map((step) => [String(step.with?.["stack-name"]), workflow.name] as const),
        ),
      ),
    );
    assert.deepEqual([...runner.keys()].sort(), [...expected.keys()].sort());
    for (const [stack, values] of runner) {
      const parsed = parseRunnerConfig(
        Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
      );
      assert.ok(parsed.ok, `${stack}: ${parsed.ok ? "" : JSON.stringify(parsed.problems)}`);
      assert.equal(parsed.value.clusterStack, `${ORGANIZATION}/${PROJECT}/${stack}`);
      assert.deepEqual(parsed.value.workflows, [expected.get(stack)]);
      assert.equal(parsed.value.connectionArn, CONNECTION_ARN);
      assert.deepEqual(parsed.value.allowedActorIds, ["4242"], "the administrator's own account, from gh api user");
    }
  });

  it("protects main with the checks the workflows run, and the production environment with a reviewer", async () => {
    const gh = recorded.filter(([tool]) => tool === "gh" || tool === "gh-input");
    // The body is recorded when gh reads it, after its arguments; the two sides of a pipe run at once, so
    // another call may be recorded in between.
    const body = (endpoint: string): Record<string, unknown> => {
      const at = gh.findIndex((call) => call.includes(endpoint));
      const input = gh.findIndex((call, i) => i > at && call[0] === "gh-input");
      assert.ok(at >= 0 && input > at, `gh api ${endpoint} with a body`);
      return JSON.parse(gh[input]![1]!) as Record<string, unknown>;
    };
    assert.deepEqual(body(`repos/${REPOSITORY}/environments/production`), {
      reviewers: [{ type: "User", id: 4242 }],
      deployment_branch_policy: { protected_branches: true, custom_branch_policies: false },
    });
    const preview = parse(await readFile(path.join(REPO_ROOT, ".github", "workflows", "preview.yml"), "utf8")) as {
      jobs: Record<string, { name: string }>;
    };
    const protection = body(`repos/${REPOSITORY}/branches/main/protection`) as {
      required_status_checks: { contexts: string[] };
    };
    assert.deepEqual(
      [...protection.required_status_checks.contexts].sort(),
      Object.values(preview.jobs)
        .map((job) => job.name)
        .sort(),
    );
    // Every outside contributor's fork workflow runs wait for approval (GitHub REST API, "Actions permissions").
    assert.ok(
      gh.some(
        (call) =>
          call.includes(`repos/${REPOSITORY}/actions/permissions/fork-pr-contributor-approval`) &&
          call.includes("PUT") &&
          call.includes("approval_policy=all_external_contributors"),
      ),
      "fork pull request workflows need approval",
    );
    // Every secret a workflow reads is one the bootstrap sets: a missing one reads as an empty string.
    const read = new Set<string>();
    for (const file of ["preview.yml", "deploy.yml"]) {
      const text = await readFile(path.join(REPO_ROOT, ".github", "workflows", file), "utf8");
      for (const match of text.matchAll(/\bsecrets\.([A-Z0-9_]+)/g)) read.add(match[1]!);
    }
    assert.ok(read.size >= 4, [...read].join(", "));
    for (const secret of read)
      assert.ok(
        gh.some((call) => call[1] === "secret" && call[3] === secret),
        `${secret} is read by a workflow but never set`,
      );
  });
});

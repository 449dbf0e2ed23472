/**
 * The preview gate (`npm run preview-gate`, scripts/preview-gate.ts) on recorded `pulumi preview --json` plans
 * (test/fixtures/preview-plans/), and the pull-request workflow step that runs it.
 *
 * The recorded plans are written in the shape Pulumi prints: `ShowPreviewDigest` (pulumi/pulumi
 * `pkg/backend/display/json.go`) with `display.PreviewStep` steps (`sdk/pkg/display/json.go`) and
 * `apitype.ResourceV3` states (`sdk/go/common/apitype/core.go`). The first test holds every plan to that shape,
 * field names copied from those sources, so a plan cannot drift into something Pulumi never prints.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import { parse } from "yaml";
import { judgePlan, parsePlan, STATEFUL_TYPES, type Finding, type PreviewDigest } from "../scripts/preview-gate/judge";

const ROOT = join(__dirname, "..");
const PLANS = join(__dirname, "fixtures", "preview-plans");
const SCRIPT = join(ROOT, "scripts", "preview-gate.ts");

/** `display.PreviewDigest`'s JSON fields (sdk/pkg/display/json.go). */
const DIGEST_FIELDS = ["config", "steps", "diagnostics", "duration", "changeSummary", "maybeCorrupt"];
/** `display.PreviewStep`'s JSON fields; `detailedDiff` has no omitempty, so it is always printed (null when nil). */
const STEP_FIELDS = ["op", "urn", "provider", "oldState", "newState", "diffReasons", "replaceReasons", "detailedDiff"];
/** `apitype.ResourceV3`'s JSON fields (sdk/go/common/apitype/core.go). */
const STATE_FIELDS = [
  "urn",
  "custom",
  "delete",
  "id",
  "type",
  "inputs",
  "outputs",
  "parent",
  "protect",
  "external",
  "dependencies",
  "initErrors",
  "provider",
  "propertyDependencies",
  "pendingReplacement",
  "additionalSecretOutputs",
  "aliases",
  "customTimeouts",
  "importID",
  "retainOnDelete",
  "deletedWith",
  "created",
  "modified",
  "sourcePosition",
  "ignoreChanges",
  "replaceOnChanges",
];
/** `StepOps` (pkg/resource/deploy/step.go). */
const STEP_OPS = [
  "same",
  "create",
  "update",
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "read",
  "read-replacement",
  "refresh",
  "discard",
  "discard-replaced",
  "remove-pending-replace",
  "import",
  "import-replacement",
  "diff",
];
/** `plugin.DiffKind.String()` (sdk/go/common/resource/plugin/provider.go). */
const DIFF_KINDS = ["add", "add-replace", "delete", "delete-replace", "update", "update-replace"];

function plan(file: string): PreviewDigest {
  return parsePlan(readFileSync(join(PLANS, file), "utf8"));
}

/** What a finding says, in a form the tests compare whole. */
function summary(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.action} ${f.type} ${f.name} [${f.properties.join(",")}]`).sort();
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function gate(args: readonly string[], input?: string): Run {
  const result = spawnSync(process.execPath, ["--import", "tsx", SCRIPT, ...args], {
    cwd: ROOT,
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("preview gate", () => {
  it("every recorded plan has the shape pulumi preview --json prints", () => {
    const files = readdirSync(PLANS).filter((f) => f.endsWith(".json"));
    assert.ok(files.length >= 10, files.join(", "));
    for (const file of files) {
      const digest = JSON.parse(readFileSync(join(PLANS, file), "utf8")) as Record<string, unknown>;
      assert.deepEqual(
        Object.keys(digest).filter((k) => !DIGEST_FIELDS.includes(k)),
        [],
        `${file}: digest fields`,
      );
      const steps = digest.steps as Record<string, unknown>[];
      assert.ok(steps.length > 0, `${file}: the root stack's step is always shown`);
      assert.ok(
        steps.some((s) => String(s.urn).includes("::pulumi:pulumi:Stack::")),
        `${file}: the root stack's step`,
      );
      for (const step of steps) {
        const where = `${file}: ${String(step.urn)} (${String(step.op)})`;
        assert.deepEqual(
          Object.keys(step).filter((k) => !STEP_FIELDS.includes(k)),
          [],
          where,
        );
        assert.ok("detailedDiff" in step, `${where}: detailedDiff is always printed`);
        assert.ok(STEP_OPS.includes(String(step.op)), where);
        assert.match(String(step.urn), /^urn:pulumi:[^:]+::sqs-eks-consumer::[^:]+(:[^:]+)*::.+$/, where);
        for (const key of ["oldState", "newState"] as const) {
          const state = step[key] as Record<string, unknown> | undefined;
          if (state === undefined) continue;
          assert.deepEqual(
            Object.keys(state).filter((k) => !STATE_FIELDS.includes(k)),
            [],
            `${where}: ${key}`,
          );
          assert.equal(state.urn, step.urn, `${where}: ${key}.urn`);
          assert.equal(typeof state.type, "string", `${where}: ${key}.type`);
        }
        for (const diff of Object.values((step.detailedDiff ?? {}) as Record<string, { kind: string }>)) {
          assert.ok(DIFF_KINDS.includes(diff.kind), `${where}: kind ${diff.kind}`);
        }
        // A delete has only the old state, a create only the new one (`display.PreviewStep`'s comments).
        if (step.op === "delete" || step.op === "delete-replaced") assert.equal(step.newState, undefined, where);
        if (step.op === "create") assert.equal(step.oldState, undefined, where);
      }
    }
  });

  it("names the providers' own type tokens for what holds state", () => {
    // Each generated resource class carries its token (internal to the SDKs, hence the cast).
    const token = (resourceClass: unknown) => (resourceClass as { __pulumiType: string }).__pulumiType;
    assert.deepEqual(
      Object.keys(STATEFUL_TYPES).sort(),
      [aws.ecr.Repository, aws.eks.Cluster, aws.iam.OpenIdConnectProvider, aws.sqs.Queue, eks.Cluster].map(token),
    );
  });

  it("refuses a queueType change: the queue and the DLQ are replaced, forced by fifoQueue and name", () => {
    const verdict = judgePlan(plan("queue-type-change.json"));
    assert.deepEqual(summary(verdict.refused), [
      "replace aws:sqs/queue:Queue queue-dlq [fifoQueue,name]",
      "replace aws:sqs/queue:Queue queue-queue [fifoQueue,name]",
    ]);
    // The queue policies and the redrive-allow policy are replaced too (queueUrl), but hold nothing.
    assert.equal(verdict.retained.length, 0);
    assert.deepEqual(verdict.errors, []);
  });

  it("lets a plan that only updates tunables through", () => {
    const verdict = judgePlan(plan("tunables-only.json"));
    assert.deepEqual([verdict.refused, verdict.retained, verdict.errors], [[], [], []]);
  });

  it("refuses a plan that deletes the ECR repository", () => {
    assert.deepEqual(summary(judgePlan(plan("ecr-repository-deleted.json")).refused), [
      "delete aws:ecr/repository:Repository image-repository []",
    ]);
  });

  it("reports a resource once when the plan shows its replacement steps (delete-replaced, replace, create-replacement)", () => {
    const digest = plan("queue-type-change-replacement-steps.json");
    const ops = (digest.steps ?? []).filter((s) => s.urn.endsWith("::queue-queue")).map((s) => s.op);
    assert.deepEqual(ops, ["delete-replaced", "replace", "create-replacement"], "deleteBeforeReplace order");
    assert.deepEqual(summary(judgePlan(digest).refused), [
      "replace aws:sqs/queue:Queue queue-dlq [fifoQueue,name]",
      "replace aws:sqs/queue:Queue queue-queue [fifoQueue,name]",
    ]);
  });

  it("allows a replacement whose old resource is retained: Pulumi forgets it and leaves it in AWS", () => {
    const verdict = judgePlan(plan("queue-replaced-retained.json"));
    assert.deepEqual(verdict.refused, []);
    assert.deepEqual(summary(verdict.retained), [
      "replace aws:sqs/queue:Queue queue-dlq [fifoQueue,name]",
      "replace aws:sqs/queue:Queue queue-queue [fifoQueue,name]",
    ]);
  });

  it("fails a preview the engine failed, and reports what the engine refused", () => {
    const verdict = judgePlan(plan("protected-queue-replace.json"));
    assert.equal(verdict.errors.length, 2);
    for (const error of verdict.errors) assert.match(error, /unable to replace resource .* marked for protection/s);
  });

  it("refuses a stack rename: the cluster, its OIDC provider, the repository and both queues are replaced", () => {
    assert.deepEqual(summary(judgePlan(plan("stack-rename.json")).refused), [
      "replace aws:ecr/repository:Repository image-repository [name]",
      "replace aws:eks/cluster:Cluster cluster-eks-eksCluster [name]",
      "replace aws:iam/openIdConnectProvider:OpenIdConnectProvider cluster-eks-oidcProvider [url]",
      "replace aws:sqs/queue:Queue queue-dlq [name]",
      "replace aws:sqs/queue:Queue queue-queue [name]",
    ]);
  });

  it("refuses a network change under the cluster: EKS would be asked to move it to another VPC", () => {
    const verdict = judgePlan(plan("network-change.json"));
    // The VPC, subnets and security group are replaced; the cluster itself is only updated, and that update fails.
    assert.deepEqual(summary(verdict.refused), [
      "update aws:eks/cluster:Cluster cluster-eks-eksCluster [vpcConfig.securityGroupIds,vpcConfig.subnetIds]",
    ]);
  });

  it("lets the endpoint allow-list change: the cluster's other vpcConfig fields update in place", () => {
    assert.deepEqual(judgePlan(plan("endpoint-cidrs-update.json")).refused, []);
  });

  it("passes a plan without changes", () => {
    const verdict = judgePlan(plan("no-changes.json"));
    assert.deepEqual([verdict.refused, verdict.errors, verdict.steps], [[], [], 1]);
  });

  it("fails a preview the program refused, repeating the program's error", () => {
    const verdict = judgePlan(plan("program-refused.json"));
    assert.equal(verdict.errors.length, 2);
    assert.match(verdict.errors[0] ?? "", /^error: this change would destroy state \(1 problem\): queueType: /);
  });

  it("counts as destroying only the step operations that delete a managed resource", () => {
    const urn = "urn:pulumi:prod::sqs-eks-consumer::sqs-eks-consumer:queue:ConsumerQueue$aws:sqs/queue:Queue::queue";
    const destroying = STEP_OPS.filter(
      (op) =>
        judgePlan({
          steps: [
            {
              op,
              urn,
              oldState: { urn, type: "aws:sqs/queue:Queue" },
              newState: { urn, type: "aws:sqs/queue:Queue" },
              replaceReasons: ["name"],
            },
          ],
        }).refused.length > 0,
    );
    // read-replacement and discard-replaced concern read (external) resources, and remove-pending-replace drops
    // from the state a resource already deleted: none deletes anything in the cloud.
    assert.deepEqual(destroying, ["delete", "replace", "create-replacement", "delete-replaced", "import-replacement"]);
    const external = judgePlan({
      steps: [{ op: "delete", urn, oldState: { urn, type: "aws:sqs/queue:Queue", external: true } }],
    });
    assert.deepEqual(external.refused, [], "a read resource is not Pulumi's to delete");
  });

  describe("npm run preview-gate", () => {
    it("exits 1 and names each queue and the properties that force it, with how to migrate", () => {
      const run = gate([join(PLANS, "queue-type-change.json")]);
      assert.equal(run.status, 1, run.stderr);
      assert.match(
        run.stderr,
        /refused: aws:sqs\/queue:Queue "queue-queue" would be replaced, forced by fifoQueue, name/,
      );
      assert.match(
        run.stderr,
        /refused: aws:sqs\/queue:Queue "queue-dlq" would be replaced, forced by fifoQueue, name/,
      );
      assert.match(run.stderr, /npm run redrive/);
      assert.equal(run.stdout, "");
    });

    it("exits 0 on a tunables-only plan read from stdin", () => {
      const run = gate(["-"], readFileSync(join(PLANS, "tunables-only.json"), "utf8"));
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^passed: 4 steps/);
    });

    it("exits 1 naming the deleted repository", () => {
      const run = gate([join(PLANS, "ecr-repository-deleted.json")]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /aws:ecr\/repository:Repository "image-repository" would be deleted/);
    });

    it("exits 65 on input that is not a plan, and 64 without exactly one argument", () => {
      const notJson = gate(["-"], "Previewing update (prod):\n");
      assert.equal(notJson.status, 65);
      assert.match(notJson.stderr, /not JSON/);
      const notDigest = gate(["-"], JSON.stringify({ steps: [{ op: "replace" }] }));
      assert.equal(notDigest.status, 65);
      assert.match(notDigest.stderr, /steps\[0\] has no string op and urn/);
      assert.equal(gate([]).status, 64);
      assert.equal(gate(["a.json", "b.json"]).status, 64);
      assert.equal(gate([join(PLANS, "missing.json")]).status, 64);
    });
  });

  for (const [file, job, stack] of [
    ["preview.yml", "preview", "dev"],
    ["deploy.yml", "deploy", "prod"],
  ] as const)
    describe(`the gate step of ${file}`, () => {
      interface Step {
        readonly name?: string;
        readonly uses?: string;
        readonly run?: string;
        readonly if?: string;
        readonly env?: Record<string, string>;
        readonly with?: Record<string, unknown>;
      }
      const workflow = parse(readFileSync(join(ROOT, ".github", "workflows", file), "utf8")) as {
        jobs: Record<string, { steps: Step[] }>;
      };
      const steps = workflow.jobs[job]?.steps ?? [];
      const gateStep = steps.find((s) => s.run?.includes("npm run --silent preview-gate"));
      const pulumiSteps = steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));

      it(`runs in the ${job} job after a pulumi preview of ${stack}${job === "deploy" ? ", and before pulumi up" : ", also when that preview failed"}`, () => {
        assert.ok(gateStep, "a step runs npm run preview-gate");
        const index = steps.indexOf(gateStep);
        const preview = pulumiSteps.find((s) => s.with?.command === "preview");
        assert.ok(preview && steps.indexOf(preview) < index, "after a pulumi/actions preview");
        assert.equal(preview.with?.["stack-name"], stack);
        // The stack is named in the workflow: a secret that does not exist reads as an empty string.
        assert.equal(gateStep.env?.STACK, stack);
        if (job === "deploy") {
          const up = pulumiSteps.find((s) => s.with?.command === "up");
          assert.ok(up && steps.indexOf(up) > index, "pulumi up runs after the gate");
          assert.equal(up.with?.["stack-name"], stack);
          // Without `if:`, a step runs only when every step before it succeeded: a refused plan stops the update.
          assert.equal((up as { if?: string }).if, undefined);
          assert.equal(gateStep.if, undefined);
        } else assert.equal(gateStep.if, "${{ !cancelled() }}");
      });

      /**
       * Runs the step's script the way GitHub runs `run:` on Linux (`bash --noprofile --norc -eo pipefail`), with
       * a `pulumi` that prints a recorded plan (and fails when the plan has errors, as the CLI does) and an `npm`
       * that runs the repository's script; the step's own `env` is its environment.
       */
      function runStep(planFile: string): Run {
        assert.ok(gateStep?.run);
        const bin = mkdtempSync(join(tmpdir(), "preview-gate-step-"));
        try {
          const recorded = join(PLANS, planFile);
          const failed = (parsePlan(readFileSync(recorded, "utf8")).diagnostics ?? []).some(
            (d) => d.severity === "error",
          );
          writeFileSync(
            join(bin, "pulumi"),
            `#!/bin/sh\n[ "$1 $2 $3 $4 $5" = "preview --stack ${stack} --json --show-replacement-steps" ] || { echo "unexpected: $*" >&2; exit 2; }\ncat '${recorded}'\nexit ${failed ? 255 : 0}\n`,
          );
          writeFileSync(
            join(bin, "npm"),
            // npm runs a script from the package root; the step's relative plan path is the step's directory's.
            `#!/bin/sh\n[ "$1 $2 $3 $4" = "run --silent preview-gate --" ] || { echo "unexpected: $*" >&2; exit 2; }\nplan="$PWD/$5"\ncd '${ROOT}'\nexec '${process.execPath}' --import tsx '${SCRIPT}' "$plan"\n`,
          );
          chmodSync(join(bin, "pulumi"), 0o755);
          chmodSync(join(bin, "npm"), 0o755);
          const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", gateStep.run], {
            cwd: bin,
            env: { PATH: `${bin}:${process.env.PATH ?? ""}`, ...gateStep.env },
            encoding: "utf8",
            timeout: 60_000,
          });
          return { status: result.status, stdout: result.stdout, stderr: result.stderr };
        } finally {
          rmSync(bin, { recursive: true, force: true });
        }
      }

      it("fails the check on a plan that replaces the queue, and passes one that updates tunables", () => {
        const refused = runStep("queue-type-change.json");
        assert.equal(refused.status, 1, refused.stderr);
        assert.match(refused.stderr, /queue-queue" would be replaced, forced by fifoQueue, name/);
        const passed = runStep("tunables-only.json");
        assert.equal(passed.status, 0, passed.stderr);
      });

      it("fails the check when the preview itself failed, showing the engine's error", () => {
        const run = runStep("protected-queue-replace.json");
        assert.equal(run.status, 1);
        assert.match(run.stderr, /preview failed: queue-queue: unable to replace resource/);
      });
    });
});

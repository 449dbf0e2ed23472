/**
 * The program meets the project's policy pack (policies/), the one CI runs with `pulumi preview
 * --policy-pack policies`: its recorded resources, in every cluster mode, raise no violation. Mutating one
 * recorded property does raise the matching violation, so the pack is really reading the program's resources.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { RecordedResource as PackResource } from "../policies/offline/evaluate";
import { formatViolations, runPack } from "../policies/offline/run-pack";
import { recordStack } from "../scripts/policy-check";
import type { ProgramRun } from "./helpers/mocks";
import {
  ORGANIZATION,
  REPO_ROOT,
  borrowing,
  assertSucceeded,
  packResources,
  runPrograms,
  scenario,
  stackFileValues,
} from "./helpers/program";

const SHARED_STACK = `${ORGANIZATION}/sqs-eks-consumer/shared`;

let create: ProgramRun;
let dev: ProgramRun;
let existing: ProgramRun;
let borrower: ProgramRun;
let autoMode: ProgramRun;

before(async () => {
  [create, dev, existing, autoMode] = (await runPrograms([
    // The platform stack lists the developers who may borrow its cluster; it runs a managed node group, whose
    // launch template the pack checks.
    await scenario("shared", {
      nodeProvisioning: "node-group",
      developers: ["alice=arn:aws:iam::123456789012:role/alice"],
    }),
    await scenario("dev", await stackFileValues("dev")),
    await scenario(
      "platform",
      { clusterMode: "adopt", clusterName: "platform-prod" },
      {
        existingClusters: {
          "platform-prod": {
            endpoint: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com",
            certificateAuthorityData: "LS0tLS1CRUdJTi0tLS0t",
            oidcIssuerUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
            oidcProviderArn:
              "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
          },
        },
      },
    ),
    // A created cluster under EKS Auto Mode (the default): its roles carry the Auto Mode policies.
    await scenario("auto", {}),
  ])) as [ProgramRun, ProgramRun, ProgramRun, ProgramRun];
  [borrower] = (await runPrograms([
    await scenario(
      "alice",
      { clusterMode: "borrow", ephemeral: true, clusterStack: SHARED_STACK },
      borrowing(create, "arn:aws:sts::123456789012:assumed-role/alice/laptop"),
    ),
  ])) as [ProgramRun];
  for (const run of [create, dev, existing, borrower, autoMode]) assertSucceeded(run);
});

/** The run's resources for the pack, one of them changed. */
function mutated(run: ProgramRun, mutate: (resource: PackResource) => PackResource): PackResource[] {
  return packResources(run).map(mutate);
}

function withProps(name: string, change: (props: Record<string, unknown>) => Record<string, unknown>) {
  return (resource: PackResource): PackResource =>
    resource.name === name ? { ...resource, props: change({ ...resource.props }) } : resource;
}

async function violatedPolicies(resources: readonly PackResource[]): Promise<string[]> {
  return [...new Set((await runPack(resources)).violations.map((v) => v.policy))].sort();
}

describe("the policy pack on the program's resources", () => {
  it("finds no violation in any cluster mode", async () => {
    for (const run of [create, dev, existing, borrower, autoMode]) {
      const result = await runPack(packResources(run));
      assert.deepEqual(result.violations, [], formatViolations(result));
    }
  });

  it("sees a node launch template whose hop limit lets pods reach IMDS", async () => {
    const resources = mutated(
      create,
      withProps("cluster-node-metadata", (props) => ({
        ...props,
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
      })),
    );
    assert.deepEqual(await violatedPolicies(resources), ["launch-template-imdsv2"]);
  });

  it("sees a dead-letter queue that would drop messages before the source queue does", async () => {
    const resources = mutated(
      create,
      withProps("queue-dlq", (props) => ({ ...props, messageRetentionSeconds: 86_400 })),
    );
    assert.deepEqual(await violatedPolicies(resources), ["dlq-retention-covers-source"]);
  });

  it("sees a Deployment that runs an image by tag", async () => {
    const resources = mutated(
      create,
      withProps("workload-deployment", (props) => {
        const text = JSON.stringify(props).replace(/@sha256:[0-9a-f]{64}/, ":latest");
        return JSON.parse(text) as Record<string, unknown>;
      }),
    );
    assert.deepEqual(await violatedPolicies(resources), ["image-pinned-by-digest"]);
  });

  it("sees a trust policy that would admit any service account", async () => {
    const resources = mutated(
      borrower,
      withProps("identity-role", (props) => ({
        ...props,
        assumeRolePolicy: String(props.assumeRolePolicy).replace(
          /system:serviceaccount:[^"]+/,
          "system:serviceaccount:*",
        ),
      })),
    );
    assert.deepEqual(await violatedPolicies(resources), ["role-trust-pinned"]);
  });
});

describe("npm run policy (scripts/policy-check.ts)", () => {
  const policyCheck = async (...args: string[]): Promise<{ code: number; stdout: string }> => {
    const script = path.join(REPO_ROOT, "scripts", "policy-check.ts");
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script, ...args], {
        cwd: REPO_ROOT,
      });
      return { code: 0, stdout };
    } catch (err) {
      const failed = err as { code: number; stdout: string };
      return { code: failed.code, stdout: failed.stdout };
    }
  };

  it("passes the committed dev stack", async () => {
    const { code, stdout } = await policyCheck("dev");
    assert.equal(code, 0, stdout);
    assert.match(stdout, /Stack dev \(program recorded under mocks\)\nPolicies:\n {4}✅ sqs-eks-consumer@v/);
    assert.match(stdout, /0 mandatory and 0 advisory policy violations/);
    assert.match(stdout, /Not judged here: the objects of Chart "keda-chart" \(one resource under mocks/);
  });

  it("fails, naming the rule, when the pack's configuration asks for more (customer-managed KMS keys)", async () => {
    const { code, stdout } = await policyCheck("dev", "--policy-pack-config", "policies/policy-config.example.json");
    assert.equal(code, 1, stdout);
    assert.match(stdout, /\[mandatory\] {2}queue-encrypted {2}\(aws:sqs\/queue:Queue: queue-queue\)/);
    assert.match(stdout, /2 mandatory and 0 advisory policy violations/);
  });

  it("records stacks that borrow or adopt a cluster against a mocked one", async () => {
    const borrowing = await recordStack("bob", {
      [`sqs-eks-consumer:clusterMode`]: "borrow",
      [`sqs-eks-consumer:ephemeral`]: "true",
      [`sqs-eks-consumer:clusterStack`]: SHARED_STACK,
    });
    const adopting = await recordStack("platform", {
      [`sqs-eks-consumer:clusterMode`]: "adopt",
      [`sqs-eks-consumer:clusterName`]: "prod",
    });
    for (const run of [borrowing, adopting]) {
      assertSucceeded(run);
      assert.deepEqual((await runPack(packResources(run))).violations, []);
    }
  });
});

/**
 * The program meets the project's policy pack (policies/), the one CI runs with `pulumi preview
 * --policy-pack policies`: its recorded resources, in every cluster mode, raise no violation. Mutating one
 * recorded property does raise the matching violation, so the pack is really reading the program's resources.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { RecordedResource as PackResource } from "../policies/offline/evaluate";
import { formatViolations, runPack } from "../policies/offline/run-pack";
import type { ProgramRun } from "./helpers/mocks";
import { ORGANIZATION, asOtherStack, assertSucceeded, runPrograms, scenario, stackFileValues } from "./helpers/program";

const SHARED_STACK = `${ORGANIZATION}/sqs-eks-consumer/shared`;

let create: ProgramRun;
let dev: ProgramRun;
let existing: ProgramRun;
let borrower: ProgramRun;

before(async () => {
  [create, dev, existing] = (await runPrograms([
    await scenario("shared", {}),
    await scenario("dev", await stackFileValues("dev")),
    await scenario("platform", { clusterMode: "existing", clusterName: "platform-prod" }, {
      existingClusters: {
        "platform-prod": {
          endpoint: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com",
          certificateAuthorityData: "LS0tLS1CRUdJTi0tLS0t",
          oidcIssuerUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
          oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
        },
      },
    }),
  ])) as [ProgramRun, ProgramRun, ProgramRun];
  [borrower] = (await runPrograms([
    await scenario("alice", { clusterMode: "stack", clusterStack: SHARED_STACK }, { otherStacks: { [SHARED_STACK]: asOtherStack(create) } }),
  ])) as [ProgramRun];
  for (const run of [create, dev, existing, borrower]) assertSucceeded(run);
});

/** The run's resources as the pack's offline runner takes them: properties are the engine's view (state). */
function packResources(run: ProgramRun, mutate?: (resource: PackResource) => PackResource): PackResource[] {
  return run.resources.map((r) => {
    const resource: PackResource = { type: r.type, name: r.name, urn: r.urn, props: r.state, parent: r.parent };
    return mutate === undefined ? resource : mutate(resource);
  });
}

function withProps(name: string, change: (props: Record<string, unknown>) => Record<string, unknown>) {
  return (resource: PackResource): PackResource => (resource.name === name ? { ...resource, props: change({ ...resource.props }) } : resource);
}

async function violatedPolicies(resources: readonly PackResource[]): Promise<string[]> {
  return [...new Set((await runPack(resources)).violations.map((v) => v.policy))].sort();
}

describe("the policy pack on the program's resources", () => {
  it("finds no violation in any cluster mode", async () => {
    for (const run of [create, dev, existing, borrower]) {
      const result = await runPack(packResources(run));
      assert.deepEqual(result.violations, [], formatViolations(result));
    }
  });

  it("sees a node launch template whose hop limit lets pods reach IMDS", async () => {
    const resources = packResources(
      create,
      withProps("cluster-node-metadata", (props) => ({ ...props, metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } })),
    );
    assert.deepEqual(await violatedPolicies(resources), ["launch-template-imdsv2"]);
  });

  it("sees a dead-letter queue that would drop messages before the source queue does", async () => {
    const resources = packResources(create, withProps("queue-dlq", (props) => ({ ...props, messageRetentionSeconds: 86_400 })));
    assert.deepEqual(await violatedPolicies(resources), ["dlq-retention-covers-source"]);
  });

  it("sees a Deployment that runs an image by tag", async () => {
    const resources = packResources(
      create,
      withProps("workload-deployment", (props) => {
        const text = JSON.stringify(props).replace(/@sha256:[0-9a-f]{64}/, ":latest");
        return JSON.parse(text) as Record<string, unknown>;
      }),
    );
    assert.deepEqual(await violatedPolicies(resources), ["image-pinned-by-digest"]);
  });

  it("sees a trust policy that would admit any service account", async () => {
    const resources = packResources(
      borrower,
      withProps("identity-role", (props) => ({
        ...props,
        assumeRolePolicy: String(props.assumeRolePolicy).replace(/system:serviceaccount:[^"]+/, "system:serviceaccount:*"),
      })),
    );
    assert.deepEqual(await violatedPolicies(resources), ["irsa-trust-pinned"]);
  });
});

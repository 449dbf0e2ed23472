/**
 * Identity mode `pod-identity` under Pulumi mocks: the association, the agent (installed in create mode,
 * required of borrowed and adopted clusters), the role's trust and access judged by a real IAM policy
 * evaluator (@cloud-copilot/iam-simulate), no dependency on the OIDC provider, and the order of operations
 * when a stack switches between irsa and pod-identity.
 */
import type * as IamSimulate from "@cloud-copilot/iam-simulate";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { POD_IDENTITY_SERVICE, queueConsumerPolicy, type PolicyDocument } from "../infra/iam-documents";
import { IDENTITY_MODE_ANNOTATION, ROLE_ARN_ANNOTATION } from "../infra/identity";
import { POD_IDENTITY_AGENT_ADDON } from "../infra/pod-identity-agent";
import { formatViolations, runPack } from "../policies/offline/run-pack";
import { ACCOUNT_ID, type ExistingCluster, type ProgramRun, type RecordedResource } from "./helpers/mocks";
import {
  ORGANIZATION,
  asOtherStack,
  assertSucceeded,
  jsonInput,
  named,
  ofType,
  oneOfType,
  packResources,
  runPrograms,
  scenario,
} from "./helpers/program";

type EvaluationResult = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

const POD_IDENTITY = { identity: "pod-identity" };
/** The platform stack lists alice, so the shared cluster makes her namespace and access entry. */
const ALICE = "alice=arn:aws:iam::123456789012:role/alice";
const SHARED_STACK = `${ORGANIZATION}/sqs-eks-consumer/shared`;
const AGENT_VERSION = "v1.3.8-eksbuild.2";
/** An adopted cluster with no IAM OIDC provider: IRSA cannot use it, Pod Identity can. */
const WITHOUT_OIDC: Record<string, ExistingCluster> = {
  "platform-prod": {
    endpoint: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com",
    certificateAuthorityData: "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t",
    oidcIssuerUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/NOPROVIDER0123456789ABCDEF012345",
  },
};

let simulator: typeof IamSimulate;
let irsa: ProgramRun;
let pod: ProgramRun;
let adopted: ProgramRun;
let adoptedWithoutAgent: ProgramRun;
let irsaOnAdopted: ProgramRun;
let autoscaledOnAdopted: ProgramRun;
let borrowed: ProgramRun;
let borrowedWithoutAgent: ProgramRun;

before(async () => {
  simulator = await import("@cloud-copilot/iam-simulate");
  const adopt = { clusterMode: "adopt", clusterName: "platform-prod" };
  const agentOnPlatform = { clusterAddons: { "platform-prod": { [POD_IDENTITY_AGENT_ADDON]: AGENT_VERSION } } };
  [irsa, pod, adopted, adoptedWithoutAgent, irsaOnAdopted, autoscaledOnAdopted] = (await runPrograms([
    await scenario("shared", { developerStacks: [ALICE] }),
    await scenario("shared", { ...POD_IDENTITY, developerStacks: [ALICE] }),
    await scenario("platform", { ...adopt, ...POD_IDENTITY }, { existingClusters: WITHOUT_OIDC, ...agentOnPlatform }),
    await scenario("platform", { ...adopt, ...POD_IDENTITY }, { existingClusters: WITHOUT_OIDC }),
    await scenario("platform", adopt, { existingClusters: WITHOUT_OIDC }),
    await scenario(
      "platform",
      { ...adopt, ...POD_IDENTITY, autoscaling: "keda" },
      { existingClusters: WITHOUT_OIDC, ...agentOnPlatform },
    ),
  ])) as [ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun];
  const borrow = { clusterMode: "borrow", clusterStack: SHARED_STACK, ...POD_IDENTITY };
  const otherStacks = { [SHARED_STACK]: asOtherStack(pod) };
  [borrowed, borrowedWithoutAgent] = (await runPrograms([
    await scenario("alice", borrow, {
      otherStacks,
      clusterAddons: { "sqs-eks-consumer-shared": { [POD_IDENTITY_AGENT_ADDON]: AGENT_VERSION } },
    }),
    await scenario("alice", borrow, { otherStacks }),
  ])) as [ProgramRun, ProgramRun];
});

const serviceAccountOf = (run: ProgramRun): RecordedResource => oneOfType(run, "kubernetes:core/v1:ServiceAccount");
const metadataOf = (resource: RecordedResource) =>
  resource.inputs.metadata as { name: string; namespace: string; annotations?: Record<string, string> };
const associationOf = (run: ProgramRun): RecordedResource =>
  oneOfType(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
const podTemplateAnnotations = (run: ProgramRun): Record<string, string> | undefined =>
  (
    oneOfType(run, "kubernetes:apps/v1:Deployment").inputs.spec as {
      template: { metadata: { annotations?: Record<string, string> } };
    }
  ).template.metadata.annotations;
const clusterArnOf = (clusterName: string) => `arn:aws:eks:us-west-2:${ACCOUNT_ID}:cluster/${clusterName}`;

describe("pod-identity mode, create cluster", () => {
  it("runs without errors", () => assertSucceeded(pod));

  it("installs the eks-pod-identity-agent add-on after the cluster's nodes, and exports its version", () => {
    const addon = oneOfType(pod, "aws:eks/addon:Addon");
    assert.equal(addon.inputs.addonName, POD_IDENTITY_AGENT_ADDON);
    assert.equal(addon.inputs.clusterName, "sqs-eks-consumer-shared");
    const nodes = named(pod, "cluster-nodes");
    assert.ok(
      addon.dependencies.includes(nodes.urn),
      `the add-on should wait for the nodes: ${addon.dependencies.join(", ")}`,
    );
    assert.equal(pod.outputs.podIdentityAgent, AGENT_VERSION);
    assert.equal(pod.outputs.identityMode, "pod-identity");
  });

  it("associates the pod-identity role with the consumer's service account, session tags on, after the agent and the role's policy", () => {
    const association = associationOf(pod);
    const sa = metadataOf(serviceAccountOf(pod));
    const role = named(pod, "identity-pod-identity-role");
    assert.deepEqual(
      { ...association.inputs, tags: undefined },
      {
        clusterName: "sqs-eks-consumer-shared",
        namespace: sa.namespace,
        serviceAccount: sa.name,
        roleArn: role.state.arn,
        disableSessionTags: false,
        tags: undefined,
      },
    );
    assert.ok(
      association.dependencies.includes(oneOfType(pod, "aws:eks/addon:Addon").urn),
      "association waits for the agent",
    );
    assert.ok(
      association.dependencies.includes(named(pod, "identity-pod-identity-queue-access").urn),
      "association waits for the access policy",
    );
    assert.equal(pod.outputs.roleArn, role.state.arn);
    assert.equal(role.inputs.name, "sqs-eks-consumer-shared-consumer-pod-identity");
  });

  it("leaves the service account without a role annotation, and changes it only after the association exists", () => {
    const sa = serviceAccountOf(pod);
    assert.equal(metadataOf(sa).annotations?.[ROLE_ARN_ANNOTATION], undefined);
    assert.ok(sa.dependencies.includes(associationOf(pod).urn));
  });

  it("does not depend on the OIDC provider: no OIDC principal, no input from the cluster's OIDC outputs", () => {
    const trust = jsonInput(named(pod, "identity-pod-identity-role"), "assumeRolePolicy") as PolicyDocument;
    assert.doesNotMatch(JSON.stringify(trust), /oidc/i);
    // The consumer's identity only: KEDA's operator role (create mode) trusts the OIDC provider in both modes.
    const identityResources = pod.resources.filter((resource) => resource.name.startsWith("identity-"));
    assert.ok(identityResources.length >= 4);
    for (const resource of identityResources) {
      assert.doesNotMatch(JSON.stringify(resource.inputs), /oidc-provider|oidc\.eks/, resource.name);
    }
    assert.equal(
      ofType(pod, "aws:iam/role:Role").filter((role) => role.name.startsWith("identity-")).length,
      1,
      "only the pod-identity role",
    );
  });

  it("grants the same least-privilege access policy as IRSA", () => {
    const podAccess = jsonInput(named(pod, "identity-pod-identity-queue-access"), "policy");
    const irsaAccess = jsonInput(named(irsa, "identity-queue-access"), "policy");
    assert.deepEqual(podAccess, irsaAccess);
    assert.deepEqual(
      podAccess,
      queueConsumerPolicy(`arn:aws:sqs:us-west-2:${ACCOUNT_ID}:sqs-eks-consumer-shared-queue`),
    );
  });
});

describe("the policy pack on pod-identity stacks", () => {
  it("finds no violation in a created, an adopted and a borrowing pod-identity stack", async () => {
    for (const run of [pod, adopted, borrowed]) {
      const result = await runPack(packResources(run));
      assert.deepEqual(result.violations, [], formatViolations(result));
    }
  });
});

describe("the pod-identity trust policy, evaluated", () => {
  let trust: PolicyDocument;
  let roleArn: string;
  let namespace: string;
  let serviceAccount: string;
  const clusterArn = clusterArnOf("sqs-eks-consumer-shared");

  before(() => {
    const role = named(pod, "identity-pod-identity-role");
    trust = jsonInput(role, "assumeRolePolicy") as PolicyDocument;
    roleArn = String(role.state.arn);
    ({ namespace, name: serviceAccount } = metadataOf(serviceAccountOf(pod)));
  });

  /** What EKS Pod Identity sends: its service principal, with the pod's session tags as request tags. */
  async function assume(
    overrides: { principal?: string; action?: string; tags?: Record<string, string | undefined> } = {},
  ): Promise<EvaluationResult> {
    const tags: Record<string, string | undefined> = {
      "eks-cluster-arn": clusterArn,
      "kubernetes-namespace": namespace,
      "kubernetes-service-account": serviceAccount,
      ...overrides.tags,
    };
    const contextVariables: Record<string, string> = {};
    for (const [tag, value] of Object.entries(tags))
      if (value !== undefined) contextVariables[`aws:RequestTag/${tag}`] = value;
    const response = await simulator.runSimulation(
      {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: trust,
        request: {
          principal: overrides.principal ?? POD_IDENTITY_SERVICE,
          action: overrides.action ?? "sts:AssumeRole",
          resource: { resource: roleArn, accountId: ACCOUNT_ID },
          contextVariables,
        },
      },
      {},
    );
    assert.equal(response.resultType, "single", JSON.stringify(response));
    return (response as { overallResult: EvaluationResult }).overallResult;
  }

  it("lets Pod Identity assume the role and tag the session for this cluster, namespace and service account", async () => {
    assert.equal(await assume(), "Allowed");
    assert.equal(await assume({ action: "sts:TagSession" }), "Allowed");
  });

  it("refuses another namespace, another service account, another cluster", async () => {
    assert.equal(await assume({ tags: { "kubernetes-namespace": "sqs-eks-consumer-alice" } }), "ImplicitlyDenied");
    assert.equal(await assume({ tags: { "kubernetes-service-account": "default" } }), "ImplicitlyDenied");
    assert.equal(await assume({ tags: { "eks-cluster-arn": clusterArnOf("someone-elses") } }), "ImplicitlyDenied");
  });

  it("refuses a session without the tags (an association with session tags disabled)", async () => {
    assert.equal(await assume({ tags: { "eks-cluster-arn": undefined } }), "ImplicitlyDenied");
    assert.equal(
      await assume({ tags: { "kubernetes-namespace": undefined, "kubernetes-service-account": undefined } }),
      "ImplicitlyDenied",
    );
  });

  it("refuses other principals and web identity", async () => {
    assert.equal(await assume({ principal: "ec2.amazonaws.com" }), "ImplicitlyDenied");
    assert.equal(await assume({ principal: `arn:aws:iam::${ACCOUNT_ID}:role/anyone` }), "ImplicitlyDenied");
    assert.equal(await assume({ action: "sts:AssumeRoleWithWebIdentity" }), "ImplicitlyDenied");
  });
});

describe("pod-identity mode on clusters this stack does not create", () => {
  it("adopts a cluster without an IAM OIDC provider and never looks one up", () => {
    assertSucceeded(adopted);
    assert.equal(adopted.invokes.filter((invoke) => invoke.token.includes("getOpenIdConnectProvider")).length, 0);
    assert.equal(
      ofType(adopted, "aws:eks/addon:Addon").length,
      0,
      "an adopted cluster's add-ons are not ours to install",
    );
    assert.equal(adopted.outputs.podIdentityAgent, AGENT_VERSION);
    const trust = jsonInput(named(adopted, "identity-pod-identity-role"), "assumeRolePolicy") as PolicyDocument;
    assert.equal(
      trust.Statement[0]?.Condition?.StringEquals?.["aws:RequestTag/eks-cluster-arn"],
      clusterArnOf("platform-prod"),
    );
    assert.equal(associationOf(adopted).inputs.clusterName, "platform-prod");
  });

  it("IRSA on the same cluster still fails, naming the missing OIDC provider", () => {
    assert.match(irsaOnAdopted.errors.join("\n"), /no IAM OIDC provider/);
  });

  it("with autoscaling, still requires the OIDC provider: KEDA's operator assumes the scaler role by web identity", () => {
    assert.match(autoscaledOnAdopted.errors.join("\n"), /no IAM OIDC provider/);
  });

  it("fails the preview when the adopted cluster has no agent add-on, naming the cluster and the fix", () => {
    const message = adoptedWithoutAgent.errors.join("\n");
    assert.match(message, /EKS cluster platform-prod has no eks-pod-identity-agent add-on/);
    assert.match(message, /aws eks create-addon --cluster-name platform-prod --addon-name eks-pod-identity-agent/);
    assert.equal(
      ofType(adoptedWithoutAgent, "aws:eks/podIdentityAssociation:PodIdentityAssociation").every((a) => a.urn === ""),
      true,
    );
  });

  it("borrows a shared cluster that runs the agent", () => {
    assertSucceeded(borrowed);
    assert.equal(associationOf(borrowed).inputs.clusterName, "sqs-eks-consumer-shared");
    assert.equal(ofType(borrowed, "aws:eks/addon:Addon").length, 0);
    assert.equal(metadataOf(serviceAccountOf(borrowed)).namespace, "sqs-eks-consumer-alice");
  });

  it("fails the preview when the shared cluster has no agent", () => {
    assert.match(
      borrowedWithoutAgent.errors.join("\n"),
      /EKS cluster sqs-eks-consumer-shared has no eks-pod-identity-agent add-on/,
    );
  });
});

/** What `pulumi up` would do going from one run's state to the next: by URN. */
function plan(from: ProgramRun, to: ProgramRun) {
  const before = new Map(from.resources.map((resource) => [resource.urn, resource]));
  const after = new Map(to.resources.map((resource) => [resource.urn, resource]));
  return {
    creates: [...after.keys()].filter((urn) => !before.has(urn)),
    deletes: [...before.keys()].filter((urn) => !after.has(urn)),
    kept: [...after.keys()].filter((urn) => before.has(urn)),
  };
}

describe("switching a stack between irsa and pod-identity", () => {
  it("puts the mode in the pod template, so a switch rolls the pods", () => {
    assert.deepEqual(podTemplateAnnotations(irsa), { [IDENTITY_MODE_ANNOTATION]: "irsa" });
    assert.deepEqual(podTemplateAnnotations(pod), { [IDENTITY_MODE_ANNOTATION]: "pod-identity" });
  });

  it("irsa -> pod-identity: creates the new role and association, keeps the service account and Deployment, deletes the IRSA role last", () => {
    const { creates, deletes, kept } = plan(irsa, pod);
    const urn = (run: ProgramRun, name: string) => named(run, name).urn;
    assert.ok(creates.includes(urn(pod, "identity-pod-identity-role")));
    assert.ok(creates.includes(associationOf(pod).urn));
    // Pulumi deletes what the program no longer declares after every create and update, the
    // Deployment's rollout included: old pods keep the IRSA role until they are gone.
    assert.deepEqual(deletes.sort(), [urn(irsa, "identity-queue-access"), urn(irsa, "identity-role")].sort());
    // One service account in both modes: updated in place (annotation dropped), never deleted.
    assert.ok(kept.includes(serviceAccountOf(irsa).urn));
    assert.ok(kept.includes(oneOfType(irsa, "kubernetes:apps/v1:Deployment").urn));
    // Distinct physical names: the new role never collides with the old one, which still exists.
    assert.notEqual(named(irsa, "identity-role").inputs.name, named(pod, "identity-pod-identity-role").inputs.name);
  });

  it("irsa -> pod-identity: the service account changes after the association, the pods roll after the service account", () => {
    const sa = serviceAccountOf(pod);
    assert.ok(sa.dependencies.includes(associationOf(pod).urn));
    const deployment = oneOfType(pod, "kubernetes:apps/v1:Deployment");
    assert.ok(
      deployment.dependencies.includes(sa.urn),
      "the Deployment takes the service account's name from the updated object",
    );
  });

  it("pod-identity -> irsa: the annotation returns only after the IRSA role's policy exists; the association goes last", () => {
    const { creates, deletes } = plan(pod, irsa);
    assert.ok(creates.includes(named(irsa, "identity-role").urn));
    assert.ok(deletes.includes(associationOf(pod).urn));
    assert.ok(deletes.includes(oneOfType(pod, "aws:eks/addon:Addon").urn));
    const sa = serviceAccountOf(irsa);
    assert.ok(sa.dependencies.includes(named(irsa, "identity-queue-access").urn));
    assert.equal(metadataOf(sa).annotations?.[ROLE_ARN_ANNOTATION], named(irsa, "identity-role").state.arn);
  });
});

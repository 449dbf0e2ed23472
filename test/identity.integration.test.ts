/**
 * The consumer's identity under Pulumi mocks, in both modes and every cluster mode:
 * - irsa: the role's trust and access, as the program registers them, judged by a real IAM policy
 *   evaluator (@cloud-copilot/iam-simulate): who may assume the consumer's role, and what it may do;
 * - pod-identity: the association, the agent (installed with a created cluster, required of borrowed and
 *   adopted ones), the role's trust and access judged by the same evaluator, and no dependency on the OIDC
 *   provider;
 * - switching a stack between the modes: the order of operations, and docs/DEPLOY.md's pod-identity ->
 *   irsa migration, whose commands target the engine's URNs of real resources. What Pulumi and EKS do
 *   between the steps (delete order, credential refresh) is upstream behaviour the doc cites, not
 *   something mocks can show.
 */
import type * as IamSimulate from "@cloud-copilot/iam-simulate";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { SQS_ACTIONS_USED } from "../consumer/src/contract";
import {
  POD_IDENTITY_SERVICE,
  STS_AUDIENCE,
  issuerHostPath,
  queueConsumerPolicy,
  serviceAccountSubject,
  webIdentityTrustPolicy,
  type PolicyDocument,
} from "../infra/iam-documents";
import { IDENTITY_MODE_ANNOTATION, ROLE_ARN_ANNOTATION } from "../infra/identity";
import { POD_IDENTITY_AGENT_ADDON } from "../infra/pod-identity-agent";
import { formatViolations, runPack } from "../policies/offline/run-pack";
import { ACCOUNT_ID, type ExistingCluster, type ProgramRun, type RecordedResource } from "./helpers/mocks";
import {
  ORGANIZATION,
  REPO_ROOT,
  borrowing,
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
/** The platform stack; the URNs in docs/DEPLOY.md's migration are this stack's. */
const STACK = "shared";
const SHARED_STACK = `${ORGANIZATION}/sqs-eks-consumer/${STACK}`;
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
let autoModePlatform: ProgramRun;
let borrowedFromAutoMode: ProgramRun;
let commands: { readonly command: string; readonly targets: readonly string[] }[];

before(async () => {
  simulator = await import("@cloud-copilot/iam-simulate");
  const adopt = { clusterMode: "adopt", clusterName: "platform-prod" };
  const agentOnPlatform = { clusterAddons: { "platform-prod": { [POD_IDENTITY_AGENT_ADDON]: AGENT_VERSION } } };
  // The created stacks run a managed node group, whose cluster gets the agent as an add-on; under EKS Auto
  // Mode the agent is built in (the last two runs).
  const nodeGroup = { nodeProvisioning: "node-group" };
  [irsa, pod, adopted, adoptedWithoutAgent, irsaOnAdopted, autoscaledOnAdopted, autoModePlatform] = (await runPrograms([
    await scenario(STACK, { ...nodeGroup, developers: [ALICE] }),
    await scenario(STACK, { ...nodeGroup, ...POD_IDENTITY, developers: [ALICE] }),
    await scenario("platform", { ...adopt, ...POD_IDENTITY }, { existingClusters: WITHOUT_OIDC, ...agentOnPlatform }),
    await scenario("platform", { ...adopt, ...POD_IDENTITY }, { existingClusters: WITHOUT_OIDC }),
    await scenario("platform", adopt, { existingClusters: WITHOUT_OIDC }),
    await scenario(
      "platform",
      { ...adopt, ...POD_IDENTITY, autoscaling: "keda" },
      { existingClusters: WITHOUT_OIDC, ...agentOnPlatform },
    ),
    await scenario(STACK, { ...POD_IDENTITY, developers: [ALICE] }),
  ])) as [ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun];
  const borrow = { clusterMode: "borrow", ephemeral: true, clusterStack: SHARED_STACK, ...POD_IDENTITY };
  const asAlice = borrowing(pod, "arn:aws:sts::123456789012:assumed-role/alice/laptop");
  [borrowed, borrowedWithoutAgent, borrowedFromAutoMode] = (await runPrograms([
    await scenario("alice", borrow, {
      ...asAlice,
      clusterAddons: { "sqs-eks-consumer-shared": { [POD_IDENTITY_AGENT_ADDON]: AGENT_VERSION } },
    }),
    await scenario("alice", borrow, asAlice),
    await scenario("alice", borrow, borrowing(autoModePlatform, "arn:aws:sts::123456789012:assumed-role/alice/laptop")),
  ])) as [ProgramRun, ProgramRun, ProgramRun];
  commands = migrationCommands(await readFile(path.join(REPO_ROOT, "docs", "DEPLOY.md"), "utf8"));
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
/** The eks-pod-identity-agent add-on among the created cluster's add-ons. */
const agentAddonOf = (run: ProgramRun): RecordedResource => {
  const found = ofType(run, "aws:eks/addon:Addon").filter(
    (addon) => addon.inputs.addonName === POD_IDENTITY_AGENT_ADDON,
  );
  assert.equal(found.length, 1, "one eks-pod-identity-agent add-on");
  return found[0]!;
};

describe("pod-identity mode, create cluster", () => {
  it("runs without errors", () => assertSucceeded(pod));

  it("under EKS Auto Mode installs no agent add-on, created or borrowed: Auto Mode's nodes run the agent", () => {
    for (const run of [autoModePlatform, borrowedFromAutoMode]) {
      assertSucceeded(run);
      assert.deepEqual(
        ofType(run, "aws:eks/addon:Addon").filter((addon) => addon.inputs.addonName === POD_IDENTITY_AGENT_ADDON),
        [],
      );
      assert.equal(run.outputs.podIdentityAgent, "built into EKS Auto Mode");
      assert.equal(ofType(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation").length, 1);
    }
  });

  it("installs the eks-pod-identity-agent add-on after the cluster's nodes, and exports its version", () => {
    const addon = agentAddonOf(pod);
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
    assert.ok(association.dependencies.includes(agentAddonOf(pod).urn), "association waits for the agent");
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
    // EKS sets more session tags than the three the trust pins (EKS user guide, "pod-id-abac").
    const everyEksTag = {
      "eks-cluster-name": "sqs-eks-consumer-shared",
      "kubernetes-pod-name": "sqs-consumer-7d9f8-abcde",
      "kubernetes-pod-uid": "0f8b4c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b",
    };
    assert.equal(await assume({ tags: everyEksTag }), "Allowed");
    assert.equal(await assume({ action: "sts:TagSession", tags: everyEksTag }), "Allowed");
  });

  it("refuses near misses: a namespace in another case or with the pinned one as prefix, a padded service account, the cluster's name in another account or region", async () => {
    for (const tags of [
      { "kubernetes-namespace": namespace.toUpperCase() },
      { "kubernetes-namespace": `${namespace}-evil` },
      { "kubernetes-service-account": `${serviceAccount} ` },
      { "eks-cluster-arn": clusterArn.replace(ACCOUNT_ID, "210987654321") },
      { "eks-cluster-arn": clusterArn.replace(":us-west-2:", ":us-east-1:") },
    ]) {
      assert.equal(await assume({ tags }), "ImplicitlyDenied", JSON.stringify(tags));
      assert.equal(await assume({ action: "sts:TagSession", tags }), "ImplicitlyDenied", JSON.stringify(tags));
    }
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

  it("refuses other principals, web identity and actions EKS does not need", async () => {
    assert.equal(await assume({ principal: "ec2.amazonaws.com" }), "ImplicitlyDenied");
    assert.equal(await assume({ principal: "ecs-tasks.amazonaws.com" }), "ImplicitlyDenied");
    assert.equal(await assume({ action: "sts:SetSourceIdentity" }), "ImplicitlyDenied");
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
    assert.equal(podTemplateAnnotations(irsa)?.[IDENTITY_MODE_ANNOTATION], "irsa");
    assert.equal(podTemplateAnnotations(pod)?.[IDENTITY_MODE_ANNOTATION], "pod-identity");
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
    assert.ok(deletes.includes(agentAddonOf(pod).urn));
    const sa = serviceAccountOf(irsa);
    assert.ok(sa.dependencies.includes(named(irsa, "identity-queue-access").urn));
    assert.equal(metadataOf(sa).annotations?.[ROLE_ARN_ANNOTATION], named(irsa, "identity-role").state.arn);
  });
});

describe("irsa mode, judged by a real IAM evaluator", () => {
  let trust: PolicyDocument;
  let access: PolicyDocument;
  let queuePolicy: PolicyDocument;
  let roleArn: string;
  let oidcProviderArn: string;
  let issuer: string;
  let namespace: string;
  let serviceAccount: string;
  let queueArn: string;
  let deadLetterQueueArn: string;

  before(() => {
    const role = named(irsa, "identity-role");
    trust = jsonInput(role, "assumeRolePolicy") as PolicyDocument;
    access = jsonInput(oneOfType(irsa, "aws:iam/rolePolicy:RolePolicy"), "policy") as PolicyDocument;
    queuePolicy = jsonInput(named(irsa, "queue-queue-tls-only"), "policy") as PolicyDocument;
    roleArn = String(irsa.outputs.roleArn);
    oidcProviderArn = String(irsa.outputs.oidcProviderArn);
    issuer = issuerHostPath(String(irsa.outputs.oidcProviderUrl));
    namespace = String(irsa.outputs.namespace);
    serviceAccount = metadataOf(serviceAccountOf(irsa)).name;
    queueArn = `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:${String(named(irsa, "queue-queue").inputs.name)}`;
    deadLetterQueueArn = `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:${String(named(irsa, "queue-dlq").inputs.name)}`;
  });

  interface AssumeRequest {
    readonly principal?: string;
    readonly action?: string;
    readonly sub?: string;
    readonly aud?: string;
  }

  /**
   * Evaluates AssumeRoleWithWebIdentity against the role's trust policy. The validating `runSimulation` only
   * knows the condition keys of a fixed list of identity providers and drops EKS issuers' keys
   * (oidc.eks.<region>.amazonaws.com/id/<id>:sub), so this uses `runUnsafeSimulation`, which takes the request's
   * context keys as given; the trust policy is handed over in the pre-validated form that path expects, after
   * `runSimulation` has validated its syntax (see the first test).
   */
  function assume(request: AssumeRequest = {}): EvaluationResult {
    const contextVariables: Record<string, string> = {};
    const sub = "sub" in request ? request.sub : serviceAccountSubject(namespace, serviceAccount);
    const aud = "aud" in request ? request.aud : STS_AUDIENCE;
    if (sub !== undefined) contextVariables[`${issuer}:sub`] = sub;
    if (aud !== undefined) contextVariables[`${issuer}:aud`] = aud;
    return simulator.runUnsafeSimulation(
      {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: { __validated: true, policyDocument: trust, metadata: { name: "trust-policy" }, errors: [] },
        request: {
          principal: request.principal ?? oidcProviderArn,
          action: request.action ?? "sts:AssumeRoleWithWebIdentity",
          resource: { resource: roleArn, accountId: ACCOUNT_ID },
          contextVariables,
        },
      },
      {},
    );
  }

  /** Evaluates an SQS request by the role's session against its access policy and the queue's policy. */
  async function sqs(action: string, resource: string, secureTransport = true): Promise<EvaluationResult> {
    const roleName = roleArn.split("/").at(-1)!;
    const response = await simulator.runSimulation(
      {
        identityPolicies: [{ name: "consume-queue", policy: access }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: queuePolicy,
        request: {
          principal: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/consumer-pod`,
          action,
          resource: { resource, accountId: ACCOUNT_ID },
          contextVariables: { "aws:SecureTransport": secureTransport ? "true" : "false" },
        },
      },
      {},
    );
    assert.notEqual(response.resultType, "error", JSON.stringify(response));
    return (response as { overallResult: EvaluationResult }).overallResult;
  }

  describe("the trust policy", () => {
    it("is a syntactically valid resource policy (validated by the evaluator)", async () => {
      const response = await simulator.runSimulation(
        {
          identityPolicies: [],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: trust,
          request: {
            principal: oidcProviderArn,
            action: "sts:AssumeRoleWithWebIdentity",
            resource: { resource: roleArn, accountId: ACCOUNT_ID },
            contextVariables: {},
          },
        },
        {},
      );
      assert.equal(response.resultType, "single", JSON.stringify(response));
    });

    it("lets the consumer's service account assume the role", () => {
      assert.equal(assume(), "Allowed");
    });

    it("refuses another service account in the same namespace", () => {
      assert.equal(assume({ sub: serviceAccountSubject(namespace, "default") }), "ImplicitlyDenied");
    });

    it("refuses the same service account name in another namespace", () => {
      assert.equal(
        assume({ sub: serviceAccountSubject("sqs-eks-consumer-other", serviceAccount) }),
        "ImplicitlyDenied",
      );
    });

    it("refuses a token for another audience, or without one", () => {
      assert.equal(assume({ aud: "https://kubernetes.default.svc" }), "ImplicitlyDenied");
      assert.equal(assume({ aud: undefined }), "ImplicitlyDenied");
      assert.equal(assume({ sub: undefined }), "ImplicitlyDenied");
    });

    it("refuses another cluster's OIDC provider", () => {
      const other = `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0THERC1USTER0000000000000000000`;
      assert.equal(assume({ principal: other }), "ImplicitlyDenied");
    });

    it("allows no other way in than AssumeRoleWithWebIdentity", () => {
      assert.equal(
        assume({ action: "sts:AssumeRole", principal: `arn:aws:iam::${ACCOUNT_ID}:role/anyone` }),
        "ImplicitlyDenied",
      );
      assert.equal(assume({ action: "sts:TagSession" }), "ImplicitlyDenied");
    });

    it("pins sub and aud with StringEquals, no wildcards", () => {
      const [statement] = trust.Statement;
      assert.equal(trust.Statement.length, 1);
      assert.equal(statement?.Action, "sts:AssumeRoleWithWebIdentity");
      assert.deepEqual(statement?.Principal, { Federated: oidcProviderArn });
      assert.deepEqual(statement?.Condition, {
        StringEquals: {
          [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
          [`${issuer}:aud`]: "sts.amazonaws.com",
        },
      });
    });
  });

  describe("the access policy", () => {
    it("grants exactly the SQS actions the consumer calls (consumer/src/contract/permissions.ts), on its own queue only", () => {
      assert.deepEqual(access, queueConsumerPolicy(queueArn));
      assert.deepEqual(access.Statement[0]?.Action, [...SQS_ACTIONS_USED]);
    });

    it("lets the role receive, delete, change visibility and read attributes on its queue", async () => {
      for (const action of [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
      ]) {
        assert.equal(await sqs(action, queueArn), "Allowed", action);
      }
    });

    it("refuses everything else on its queue: sending, purging, deleting, reconfiguring", async () => {
      for (const action of [
        "sqs:SendMessage",
        "sqs:PurgeQueue",
        "sqs:DeleteQueue",
        "sqs:SetQueueAttributes",
        "sqs:AddPermission",
        "sqs:TagQueue",
      ]) {
        assert.equal(await sqs(action, queueArn), "ImplicitlyDenied", action);
      }
    });

    it("refuses other queues, the dead-letter queue included", async () => {
      const otherQueue = `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:someone-elses-queue`;
      for (const resource of [otherQueue, deadLetterQueueArn]) {
        assert.equal(await sqs("sqs:ReceiveMessage", resource), "ImplicitlyDenied", resource);
      }
    });

    it("is overruled by the queue policy for any request not made over TLS", async () => {
      assert.equal(await sqs("sqs:ReceiveMessage", queueArn, false), "ExplicitlyDenied");
    });
  });
});

describe("webIdentityTrustPolicy (pure)", () => {
  it("accepts the issuer with or without its scheme", () => {
    const args = { oidcProviderArn: "arn:aws:iam::1:oidc-provider/o/id/X", namespace: "ns", serviceAccount: "sa" };
    assert.deepEqual(
      webIdentityTrustPolicy({ ...args, oidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/X/" }),
      webIdentityTrustPolicy({ ...args, oidcIssuerUrl: "oidc.eks.eu-west-1.amazonaws.com/id/X" }),
    );
  });
});

/** The resource's URN as the engine forms it: the types of its ancestors below the root stack, then its own. */
function engineUrn(run: ProgramRun, resource: RecordedResource): string {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const types = [resource.type];
  for (
    let parent = byUrn.get(resource.parent);
    parent !== undefined && parent.type !== "pulumi:pulumi:Stack";
    parent = byUrn.get(parent.parent)
  ) {
    types.unshift(parent.type);
  }
  return `urn:pulumi:${STACK}::sqs-eks-consumer::${types.join("$")}::${resource.name}`;
}

/** The resource a doc URN names in a run, if any. */
function byEngineUrn(run: ProgramRun, urn: string): RecordedResource | undefined {
  return run.resources.find((resource) => engineUrn(run, resource) === urn);
}

/** The doc's shell block for the migration, as commands with their `--target` URNs (STACK substituted). */
function migrationCommands(doc: string): { command: string; targets: string[] }[] {
  const section = doc.slice(doc.indexOf("**pod-identity -> irsa"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const lines = block
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const prefixLine = lines.find((line) => line.startsWith("URN="));
  assert.ok(prefixLine !== undefined, "the block defines URN=");
  const prefix = prefixLine
    .slice("URN=".length)
    .replace(/"\$STACK"/g, STACK)
    .replace(/'/g, "");
  return lines
    .filter((line) => line.startsWith("pulumi "))
    .map((line) => ({
      command: line.replace(/ --target .*/, ""),
      targets: [...line.matchAll(/--target "\$\{URN\}([^"]+)"/g)].map((match) => prefix + match[1]!),
    }));
}

describe("docs/DEPLOY.md: pod-identity -> irsa in three steps, under mocks", () => {
  it("is a config change and three commands: a targeted up, a targeted destroy, an up", () => {
    assert.deepEqual(
      commands.map((c) => [c.command, c.targets.length > 0]),
      [
        ["pulumi config set identity irsa", false],
        ["pulumi up", true],
        ["pulumi destroy", true],
        ["pulumi up", false],
      ],
    );
  });

  it("step 1 targets the IRSA role, its policy and the service account, by the URNs the engine gives them", () => {
    const targets = commands[1]!.targets.map((urn) => byEngineUrn(irsa, urn)?.name);
    assert.deepEqual(targets, ["identity-role", "identity-queue-access", "identity-service-account"]);
  });

  it("step 1 can run alone: every dependency of a target is a target or already exists in the pod-identity stack", () => {
    const targets = new Set(commands[1]!.targets.map((urn) => byEngineUrn(irsa, urn)!.urn));
    const existing = new Set(pod.resources.map((resource) => resource.urn));
    for (const urn of targets) {
      const resource = irsa.resources.find((r) => r.urn === urn)!;
      const missing = resource.dependencies.filter(
        (dependency) => !targets.has(dependency) && !existing.has(dependency),
      );
      assert.deepEqual(missing, [], `${resource.name} needs resources step 1 does not create`);
    }
  });

  it("step 1 leaves the association, the Pod Identity role and the Deployment as they are", () => {
    const targeted = new Set(commands[1]!.targets);
    for (const name of ["identity-pod-identity-association", "identity-pod-identity-role"])
      assert.ok(!targeted.has(engineUrn(pod, named(pod, name))), name);
    assert.ok(!targeted.has(engineUrn(pod, oneOfType(pod, "kubernetes:apps/v1:Deployment"))));
  });

  it("step 2 destroys the association alone: after step 1 nothing depends on it, so no --target-dependents is needed", () => {
    const association = oneOfType(pod, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
    assert.deepEqual(commands[2]!.targets, [engineUrn(pod, association)]);
    // The state after step 1: the pod-identity stack with the targets as the irsa program registers them.
    const replaced = new Map(commands[1]!.targets.map((urn) => [byEngineUrn(irsa, urn)!.urn, byEngineUrn(irsa, urn)!]));
    const state = [...pod.resources.filter((resource) => !replaced.has(resource.urn)), ...replaced.values()];
    const dependents = state.filter(
      (resource) => resource.dependencies.includes(association.urn) || resource.parent === association.urn,
    );
    assert.deepEqual(
      dependents.map((resource) => resource.name),
      [],
    );
    // Before step 1 the service account depended on it: this is why the order matters.
    assert.ok(oneOfType(pod, "kubernetes:core/v1:ServiceAccount").dependencies.includes(association.urn));
  });

  it("step 3 creates nothing, rolls the pods, and deletes the Pod Identity role, its policy and the agent add-on", () => {
    const afterStep2 = new Set(
      pod.resources
        .map((r) => r.urn)
        .filter((urn) => urn !== oneOfType(pod, "aws:eks/podIdentityAssociation:PodIdentityAssociation").urn),
    );
    for (const urn of commands[1]!.targets) afterStep2.add(byEngineUrn(irsa, urn)!.urn);
    const program = new Set(irsa.resources.map((r) => r.urn));
    assert.deepEqual(
      [...program].filter((urn) => !afterStep2.has(urn)),
      [],
      "creates",
    );
    const deletes = [...afterStep2]
      .filter((urn) => !program.has(urn))
      .map((urn) => pod.resources.find((r) => r.urn === urn)!.name)
      .sort();
    assert.deepEqual(
      deletes,
      [
        "identity-pod-identity-queue-access",
        "identity-pod-identity-role",
        "pod-identity-agent",
        "pod-identity-agent-addon",
      ].sort(),
    );
    const template = (run: ProgramRun) =>
      JSON.stringify((oneOfType(run, "kubernetes:apps/v1:Deployment").inputs.spec as { template: unknown }).template);
    assert.notEqual(template(pod), template(irsa), "the pod template changes, so the pods roll");
  });
});

/**
 * Autoscaling under mocks, judged by real validators: the ScaledObject and TriggerAuthentication the
 * program registers against KEDA's CRD schemas (@kubernetes-models/keda), the scaler role's trust and
 * access by a real IAM evaluator (@cloud-copilot/iam-simulate), the Deployment without `replicas`, KEDA
 * installed once by the create stack, and two borrowing stacks with separate roles and triggers.
 */
import type * as IamSimulate from "@cloud-copilot/iam-simulate";
import type * as KedaModels from "@kubernetes-models/keda/keda.sh/v1alpha1";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  AUTOSCALING_NAMES,
  SCALER_ACTIONS,
  scaledObjectSpec,
  scalerAccessPolicy,
  triggerAuthenticationSpec,
} from "../infra/autoscaling";
import { parseStackConfig, type EnabledAutoscaling } from "../infra/config";
import { STS_AUDIENCE, issuerHostPath, type PolicyDocument } from "../infra/iam-documents";
import { KEDA_CHART, KEDA_OUTPUT, kedaChartMirror, kedaOperatorTrustPolicy } from "../infra/keda";
import { POD_SECURITY_LABELS } from "../infra/namespace";
import { runPack } from "../policies/offline/run-pack";
import { ACCOUNT_ID, type ProgramRun, type RecordedResource } from "./helpers/mocks";
import {
  ORGANIZATION,
  assertSucceeded,
  borrowing,
  jsonInput,
  named,
  ofType,
  oneOfType,
  packResources,
  runPrograms,
  scenario,
} from "./helpers/program";

type Simulator = typeof IamSimulate;
type Keda = typeof KedaModels;

const SHARED_STACK = `${ORGANIZATION}/sqs-eks-consumer/shared`;
const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const TRIGGER_AUTHENTICATION = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication";
const CHART = "kubernetes:helm.sh/v4:Chart";
const ON = {
  autoscaling: "keda",
  minReplicas: 0,
  maxReplicas: 12,
  activationMessages: 5,
  pollingIntervalSeconds: 10,
  cooldownPeriodSeconds: 120,
};
const TRIGGER_METADATA_KEYS = [
  "queueURL",
  "awsRegion",
  "queueLength",
  "activationQueueLength",
  "scaleOnInFlight",
  "scaleOnDelayed",
];

let simulator: Simulator;
let keda: Keda;
let shared: ProgramRun;
let off: ProgramRun;
let alice: ProgramRun;
let bob: ProgramRun;

before(async () => {
  simulator = await import("@cloud-copilot/iam-simulate");
  keda = await import("@kubernetes-models/keda/keda.sh/v1alpha1");
  // The shared stack lists the borrowers' developers, with a quota and nodes for 13 pods each (docs/DEPLOY.md,
  // "Developer stacks").
  const developers = ["alice=arn:aws:iam::123456789012:role/alice", "bob=arn:aws:iam::123456789012:role/bob"];
  [shared, off] = (await runPrograms([
    await scenario("shared", {
      ...ON,
      developers,
      developerPods: 13,
      developerCpuMillicores: 1500,
      developerMemoryMiB: 4096,
      nodeProvisioning: "node-group",
      nodeInstanceType: "m5.xlarge",
    }),
    await scenario("plain", {}),
  ])) as [ProgramRun, ProgramRun];
  const borrow = { ...ON, clusterMode: "borrow", ephemeral: true, clusterStack: SHARED_STACK };
  [alice, bob] = (await runPrograms([
    await scenario("alice", borrow, borrowing(shared, "arn:aws:sts::123456789012:assumed-role/alice/laptop")),
    await scenario("bob", borrow, borrowing(shared, "arn:aws:sts::123456789012:assumed-role/bob/laptop")),
  ])) as [ProgramRun, ProgramRun];
  for (const run of [shared, off, alice, bob]) assertSucceeded(run);
});

function spec(resource: RecordedResource): Record<string, unknown> {
  return resource.inputs.spec as Record<string, unknown>;
}

function metadataOf(resource: RecordedResource): { name: string; namespace: string } {
  return resource.inputs.metadata as { name: string; namespace: string };
}

function trigger(run: ProgramRun): { metadata: Record<string, string>; authenticationRef: { name: string } } {
  return (
    spec(oneOfType(run, SCALED_OBJECT)).triggers as {
      metadata: Record<string, string>;
      authenticationRef: { name: string };
    }[]
  )[0]!;
}

describe("the KEDA objects, validated against KEDA's CRD schemas", () => {
  it("the ScaledObject and TriggerAuthentication of every autoscaled stack pass @kubernetes-models/keda", () => {
    for (const run of [shared, alice, bob]) {
      const scaledObject = oneOfType(run, SCALED_OBJECT);
      new keda.ScaledObject({ metadata: metadataOf(scaledObject), spec: spec(scaledObject) as never }).validate();
      const auth = oneOfType(run, TRIGGER_AUTHENTICATION);
      new keda.TriggerAuthentication({ metadata: metadataOf(auth), spec: spec(auth) }).validate();
    }
  });

  it("the validator bites: a count given as a string, or an unknown podIdentity provider, is rejected", () => {
    const good = spec(oneOfType(shared, SCALED_OBJECT));
    assert.throws(() =>
      new keda.ScaledObject({ metadata: { name: "x" }, spec: { ...good, maxReplicaCount: "12" } as never }).validate(),
    );
    assert.throws(() =>
      new keda.TriggerAuthentication({
        metadata: { name: "x" },
        spec: { podIdentity: { provider: "aws-eks-magic" } },
      }).validate(),
    );
  });

  it("the trigger's metadata (a free string map in the schema) uses only aws-sqs-queue's keys, all strings", () => {
    const { metadata } = trigger(shared);
    assert.deepEqual(Object.keys(metadata).sort(), [...TRIGGER_METADATA_KEYS].sort());
    for (const value of Object.values(metadata)) assert.equal(typeof value, "string");
    assert.equal(metadata.scaleOnInFlight, "true");
    assert.equal(metadata.queueLength, "100", "messagesPerPod defaults to consumer.handlerConcurrency");
    assert.equal(metadata.activationQueueLength, "5");
    assert.equal(metadata.queueURL, String(shared.outputs.queueUrl));
  });

  it("the ScaledObject scales the consumer Deployment with the stack's bounds, timings, fallback and a scale-down window longer than the grace period", () => {
    const s = spec(oneOfType(shared, SCALED_OBJECT));
    const deployment = oneOfType(shared, "kubernetes:apps/v1:Deployment");
    assert.deepEqual(s.scaleTargetRef, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: metadataOf(deployment).name,
    });
    assert.deepEqual([s.minReplicaCount, s.maxReplicaCount, s.pollingInterval, s.cooldownPeriod], [0, 12, 10, 120]);
    assert.deepEqual(s.fallback, { failureThreshold: 3, replicas: 2 });
    const grace = (deployment.inputs.spec as { template: { spec: { terminationGracePeriodSeconds: number } } }).template
      .spec.terminationGracePeriodSeconds;
    const window = (
      s.advanced as {
        horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: number } } };
      }
    ).horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds;
    assert.ok(window > grace, `window ${window} s vs grace ${grace} s`);
    assert.equal((s.triggers as { useCachedMetrics: boolean }[])[0]!.useCachedMetrics, true);
  });

  it("the TriggerAuthentication names the stack's scaler role and never the workload's identity", () => {
    for (const run of [shared, alice, bob]) {
      const auth = spec(oneOfType(run, TRIGGER_AUTHENTICATION));
      assert.deepEqual(auth, { podIdentity: { provider: "aws", roleArn: String(run.outputs.scalerRoleArn) } });
      assert.equal(trigger(run).authenticationRef.name, metadataOf(oneOfType(run, TRIGGER_AUTHENTICATION)).name);
    }
  });
});

describe("the Deployment and its disruption budget with autoscaling", () => {
  it("leaves replicas to the HPA when autoscaling is on, and keeps them when it is off", () => {
    for (const run of [shared, alice, bob]) {
      assert.equal(
        (oneOfType(run, "kubernetes:apps/v1:Deployment").inputs.spec as Record<string, unknown>).replicas,
        undefined,
      );
    }
    assert.equal((oneOfType(off, "kubernetes:apps/v1:Deployment").inputs.spec as Record<string, unknown>).replicas, 2);
    assert.deepEqual(ofType(off, SCALED_OBJECT), []);
    assert.deepEqual(ofType(off, TRIGGER_AUTHENTICATION), []);
  });

  it("keeps a PDB that allows one voluntary disruption at a time, so a drain never blocks on a scaled-in deployment", () => {
    const pdb = oneOfType(shared, "kubernetes:policy/v1:PodDisruptionBudget");
    assert.equal((pdb.inputs.spec as Record<string, unknown>).maxUnavailable, 1);
    assert.equal((pdb.inputs.spec as Record<string, unknown>).minAvailable, undefined);
  });
});

describe("KEDA, installed once per cluster", () => {
  it("the create stack installs the pinned chart into a restricted `keda` namespace and exports where it runs", () => {
    const chart = oneOfType(shared, CHART);
    // From the account's immutable mirror, by the pinned version, with the registry's own credentials.
    assert.equal(
      chart.inputs.chart,
      `oci://${ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com/${kedaChartMirror("sqs-eks-consumer")}`,
    );
    assert.equal(chart.inputs.version, KEDA_CHART.version);
    assert.match(KEDA_CHART.version, /^2\.20\.\d+$/);
    assert.deepEqual(chart.inputs.repositoryOpts, { username: "AWS", password: "mock-ecr-password" });
    assert.ok(chart.secretInputPaths.includes("repositoryOpts.password"), "the registry password is a secret");
    assert.equal(chart.inputs.namespace, "keda");
    const namespace = ofType(shared, "kubernetes:core/v1:Namespace").find((n) => metadataOf(n).name === "keda")!;
    const labels = (namespace.inputs.metadata as { labels: Record<string, string> }).labels;
    for (const [key, value] of Object.entries(POD_SECURITY_LABELS)) assert.equal(labels[key], value, key);
    assert.deepEqual(shared.outputs[KEDA_OUTPUT], {
      namespace: "keda",
      operatorServiceAccount: "keda-operator",
      chartVersion: KEDA_CHART.version,
    });
  });

  it("under mocks the chart is one resource: its rendered objects (operator, RBAC, CRDs) are not visible here", () => {
    assert.equal(shared.resources.filter((r) => r.parent === oneOfType(shared, CHART).urn).length, 0);
  });

  it("the operator's own role grants nothing and is trusted by keda:keda-operator only", () => {
    const role = named(shared, "keda-operator-role");
    assert.deepEqual(
      ofType(shared, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === role.inputs.name),
      [],
    );
    assert.deepEqual(
      ofType(shared, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter(
        (p) => p.inputs.role === role.inputs.name,
      ),
      [],
    );
    const trust = jsonInput(role, "assumeRolePolicy");
    assert.deepEqual(
      trust,
      kedaOperatorTrustPolicy({
        oidcProviderArn: String(shared.outputs.oidcProviderArn),
        oidcIssuerUrl: String(shared.outputs.oidcProviderUrl),
        keda: { namespace: "keda", operatorServiceAccount: "keda-operator" },
      }),
    );
  });

  it("borrowing stacks and the plain create stack's peers install nothing cluster-wide", () => {
    for (const run of [alice, bob]) {
      assert.deepEqual(ofType(run, CHART), []);
      assert.equal(
        ofType(run, "kubernetes:core/v1:Namespace").some((n) => metadataOf(n).name === "keda"),
        false,
      );
    }
  });

  it("two borrowing stacks get separate scaler roles and triggers, each on its own queue", () => {
    const roles = [alice, bob].map((run) => named(run, "autoscaling-scaler-role").inputs.name);
    assert.notEqual(roles[0], roles[1]);
    const queues = [alice, bob].map((run) => trigger(run).metadata.queueURL);
    assert.notEqual(queues[0], queues[1]);
    assert.deepEqual(queues, [String(alice.outputs.queueUrl), String(bob.outputs.queueUrl)]);
    const namespaces = [alice, bob].map((run) => metadataOf(oneOfType(run, TRIGGER_AUTHENTICATION)).namespace);
    assert.notEqual(namespaces[0], namespaces[1]);
  });
});

interface Judged {
  readonly trust: PolicyDocument;
  readonly access: PolicyDocument;
  readonly roleArn: string;
  readonly oidcProviderArn: string;
  readonly issuer: string;
  readonly queueArn: string;
}

function judged(run: ProgramRun): Judged {
  const role = named(run, "autoscaling-scaler-role");
  const access = ofType(run, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "autoscaling-scaler-access")!;
  return {
    trust: jsonInput(role, "assumeRolePolicy") as PolicyDocument,
    access: jsonInput(access, "policy") as PolicyDocument,
    roleArn: String(run.outputs.scalerRoleArn),
    oidcProviderArn: String(run.outputs.oidcProviderArn),
    issuer: issuerHostPath(String(run.outputs.oidcProviderUrl)),
    queueArn: `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:${String(named(run, "queue-queue").inputs.name)}`,
  };
}

type EvaluationResult = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

/** AssumeRoleWithWebIdentity against the scaler role's trust (EKS issuers' keys need the unvalidated path; see identity.integration.test.ts). */
/** `aud` null: a token without an audience. */
function assume(
  j: Judged,
  sub: string,
  aud: string | null = STS_AUDIENCE,
  principal = j.oidcProviderArn,
): EvaluationResult {
  const contextVariables: Record<string, string> = {};
  contextVariables[`${j.issuer}:sub`] = sub;
  if (aud !== null) contextVariables[`${j.issuer}:aud`] = aud;
  return simulator.runUnsafeSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: { __validated: true, policyDocument: j.trust, metadata: { name: "trust-policy" }, errors: [] },
      request: {
        principal,
        action: "sts:AssumeRoleWithWebIdentity",
        resource: { resource: j.roleArn, accountId: ACCOUNT_ID },
        contextVariables,
      },
    },
    {},
  );
}

async function call(j: Judged, action: string, resource: string): Promise<EvaluationResult> {
  const response = await simulator.runSimulation(
    {
      identityPolicies: [{ name: "read-queue-depth", policy: j.access }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${j.roleArn.split("/").at(-1)!}/KEDA`,
        action,
        resource: { resource, accountId: ACCOUNT_ID },
        contextVariables: {},
      },
    },
    {},
  );
  assert.notEqual(response.resultType, "error", JSON.stringify(response));
  return (response as { overallResult: EvaluationResult }).overallResult;
}

describe("the scaler role, judged by a real IAM evaluator", () => {
  it("lets KEDA's operator assume it, and nobody else", () => {
    for (const run of [shared, alice]) {
      const j = judged(run);
      const namespace = String(run.outputs.namespace);
      assert.equal(assume(j, "system:serviceaccount:keda:keda-operator"), "Allowed");
      assert.equal(
        assume(j, `system:serviceaccount:${namespace}:sqs-consumer`),
        "ImplicitlyDenied",
        "the consumer's service account",
      );
      assert.equal(assume(j, "system:serviceaccount:other:keda-operator"), "ImplicitlyDenied", "another namespace");
      assert.equal(
        assume(j, "system:serviceaccount:keda:keda-metrics-apiserver"),
        "ImplicitlyDenied",
        "another KEDA service account",
      );
      assert.equal(
        assume(j, "system:serviceaccount:keda:keda-operator", "https://kubernetes.default.svc"),
        "ImplicitlyDenied",
        "another audience",
      );
      assert.equal(assume(j, "system:serviceaccount:keda:keda-operator", null), "ImplicitlyDenied", "no audience");
      const otherCluster = `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0THERC1USTER0000000000000000000`;
      assert.equal(
        assume(j, "system:serviceaccount:keda:keda-operator", STS_AUDIENCE, otherCluster),
        "ImplicitlyDenied",
        "another cluster",
      );
    }
  });

  it("may read its own queue's attributes and do nothing else", async () => {
    const j = judged(shared);
    assert.deepEqual(j.access, scalerAccessPolicy(j.queueArn));
    assert.equal(await call(j, "sqs:GetQueueAttributes", j.queueArn), "Allowed");
    for (const action of [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:SendMessage",
      "sqs:PurgeQueue",
      "sqs:SetQueueAttributes",
      "sqs:ChangeMessageVisibility",
    ]) {
      assert.equal(await call(j, action, j.queueArn), "ImplicitlyDenied", action);
    }
    const dlq = `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:${String(named(shared, "queue-dlq").inputs.name)}`;
    for (const other of [dlq, `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:someone-elses-queue`, judged(alice).queueArn]) {
      assert.equal(await call(j, "sqs:GetQueueAttributes", other), "ImplicitlyDenied", other);
    }
    assert.deepEqual(SCALER_ACTIONS, ["sqs:GetQueueAttributes"]);
  });
});

describe("the builders (pure)", () => {
  const autoscaling = (): EnabledAutoscaling => {
    const parsed = parseStackConfig({
      project: "sqs-eks-consumer",
      stack: "dev",
      values: { "sqs-eks-consumer:autoscaling": "keda" },
    });
    assert.ok(parsed.ok && parsed.value.autoscaling.enabled);
    return parsed.value.autoscaling;
  };

  it("build objects KEDA's schemas accept for the default settings", () => {
    new keda.ScaledObject({
      metadata: { name: AUTOSCALING_NAMES.scaledObject },
      spec: scaledObjectSpec({
        deploymentName: "d",
        queueUrl: "https://sqs.us-west-2.amazonaws.com/1/q",
        region: "us-west-2",
        triggerAuthenticationName: "t",
        autoscaling: autoscaling(),
      }) as never,
    }).validate();
    new keda.TriggerAuthentication({
      metadata: { name: "t" },
      spec: triggerAuthenticationSpec("arn:aws:iam::1:role/r"),
    }).validate();
  });
});

describe("the policy pack on the autoscaled stacks", () => {
  it("finds no violation in the create stack or a borrower", async () => {
    for (const run of [shared, alice]) assert.deepEqual((await runPack(packResources(run))).violations, []);
  });

  it("rejects the same stack with identityOwner: workload, an unbounded ScaledObject, or a scaler role that may receive", async () => {
    const resources = packResources(shared).map((r) => {
      if (r.type === TRIGGER_AUTHENTICATION)
        return { ...r, props: { ...r.props, spec: { podIdentity: { provider: "aws", identityOwner: "workload" } } } };
      if (r.type === SCALED_OBJECT)
        return { ...r, props: { ...r.props, spec: { ...(r.props.spec as object), maxReplicaCount: undefined } } };
      if (r.name === "autoscaling-scaler-access") {
        return {
          ...r,
          props: {
            ...r.props,
            policy: JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: ["sqs:GetQueueAttributes", "sqs:ReceiveMessage"], Resource: "*" }],
            }),
          },
        };
      }
      return r;
    });
    const violated = new Set((await runPack(resources)).violations.map((v) => v.policy));
    for (const policy of [
      "trigger-authentication-keda-identity",
      "scaled-object-bounded-max",
      "scaler-role-reads-queue-attributes-only",
    ])
      assert.ok(violated.has(policy), policy);
  });
});

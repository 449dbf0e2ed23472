import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS } from "../lib/types";
import {
  KEDA,
  scaledObjectBoundedMax,
  scalerRoleReadsQueueAttributesOnly,
  triggerAuthenticationKedaIdentity,
} from "../rules/autoscaling";
import { edit, resourceViolations, stackViolations } from "./harness";
import { ACCOUNT, ISSUER, OIDC_PROVIDER_ARN, queueArn, resource, roleArn } from "./fixtures/good-stack";

const OPERATOR = "system:serviceaccount:keda:keda-operator";

function scaledObject(spec: Record<string, unknown>) {
  return resource(KEDA.scaledObject, "consumer-scaled-object", {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    spec,
  });
}

function triggerAuthentication(podIdentity: Record<string, unknown>, type: string = KEDA.triggerAuthentication) {
  return resource(type, "consumer-trigger-authentication", { spec: { podIdentity } });
}

function operatorTrust(subject = OPERATOR): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: OIDC_PROVIDER_ARN },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { [`${ISSUER}:sub`]: subject, [`${ISSUER}:aud`]: "sts.amazonaws.com" } },
      },
    ],
  });
}

function scalerStack(statements: unknown[], subject = OPERATOR) {
  const arn = roleArn("consumer-dev-scaler");
  const role = resource(AWS.role, "consumer-scaler-role", {
    name: "consumer-dev-scaler",
    arn,
    id: "consumer-dev-scaler",
    assumeRolePolicy: operatorTrust(subject),
  });
  const policy = resource(AWS.rolePolicy, "consumer-scaler-access", {
    role: "consumer-dev-scaler",
    policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
  });
  return { role, policy, triggerAuthentication: triggerAuthentication({ provider: "aws", roleArn: arn }) };
}

const readDepth = { Effect: "Allow", Action: ["sqs:GetQueueAttributes"], Resource: queueArn("consumer-dev") };

describe("scaled-object-bounded-max", () => {
  it("passes a bounded ScaledObject and ignores other kinds", async () => {
    assert.deepEqual(
      await resourceViolations(scaledObjectBoundedMax, scaledObject({ minReplicaCount: 0, maxReplicaCount: 10 })),
      [],
    );
    assert.deepEqual(await resourceViolations(scaledObjectBoundedMax, resource(AWS.role, "r", {})), []);
  });

  it("rejects a ScaledObject without maxReplicaCount, above the ceiling, or below its minimum", async () => {
    assert.deepEqual(await resourceViolations(scaledObjectBoundedMax, scaledObject({ minReplicaCount: 0 })), [
      'ScaledObject "consumer-scaled-object": spec.maxReplicaCount is not set, so KEDA allows 100 replicas; set it to at most 100.',
    ]);
    assert.deepEqual(await resourceViolations(scaledObjectBoundedMax, scaledObject({ maxReplicaCount: 101 })), [
      'ScaledObject "consumer-scaled-object": spec.maxReplicaCount is 101, above the ceiling of 100; lower it (or raise the policy\'s maxReplicaCount deliberately).',
    ]);
    assert.deepEqual(
      await resourceViolations(scaledObjectBoundedMax, scaledObject({ minReplicaCount: 5, maxReplicaCount: 3 })),
      ['ScaledObject "consumer-scaled-object": spec.maxReplicaCount (3) is below spec.minReplicaCount (5).'],
    );
  });

  it("takes its ceiling from config", async () => {
    assert.deepEqual(
      await resourceViolations(scaledObjectBoundedMax, scaledObject({ maxReplicaCount: 150 }), {
        maxReplicaCount: 200,
      }),
      [],
    );
    assert.equal(
      (await resourceViolations(scaledObjectBoundedMax, scaledObject({ maxReplicaCount: 8 }), { maxReplicaCount: 5 }))
        .length,
      1,
    );
  });
});

describe("trigger-authentication-keda-identity", () => {
  it("passes a roleArn and KEDA's own identity", async () => {
    assert.deepEqual(
      await resourceViolations(
        triggerAuthenticationKedaIdentity,
        triggerAuthentication({ provider: "aws", roleArn: roleArn("scaler") }),
      ),
      [],
    );
    assert.deepEqual(
      await resourceViolations(
        triggerAuthenticationKedaIdentity,
        triggerAuthentication({ provider: "aws", identityOwner: "keda" }),
      ),
      [],
    );
  });

  it("rejects identityOwner: workload on both kinds, in any case", async () => {
    const message =
      'TriggerAuthentication "consumer-trigger-authentication": spec.podIdentity.identityOwner is "workload", so KEDA would act as the consumer\'s role; remove it and set spec.podIdentity.roleArn to a role that may only read the queue\'s attributes.';
    assert.deepEqual(
      await resourceViolations(
        triggerAuthenticationKedaIdentity,
        triggerAuthentication({ provider: "aws", identityOwner: "workload" }),
      ),
      [message],
    );
    assert.deepEqual(
      await resourceViolations(
        triggerAuthenticationKedaIdentity,
        triggerAuthentication({ provider: "aws", identityOwner: "Workload" }, KEDA.clusterTriggerAuthentication),
      ),
      [message],
    );
  });
});

describe("scaler-role-reads-queue-attributes-only", () => {
  const messages = async (resources: Parameters<typeof stackViolations>[1]) =>
    (await stackViolations(scalerRoleReadsQueueAttributesOnly, resources)).map((f) => f.message);

  it("passes GetQueueAttributes on one queue", async () => {
    const { role, policy, triggerAuthentication } = scalerStack([readDepth]);
    assert.deepEqual(await messages([role, policy, triggerAuthentication]), []);
  });

  it("rejects any other action, a wildcard or non-queue resource, and NotAction", async () => {
    const { role, policy } = scalerStack([
      {
        Effect: "Allow",
        Action: ["sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        Resource: `arn:aws:sqs:eu-west-1:${ACCOUNT}:*`,
      },
      { Effect: "Allow", NotAction: "iam:*", Resource: "*" },
    ]);
    const fix = "grant only sqs:GetQueueAttributes on this stack's queue ARN";
    assert.deepEqual(await messages([role, policy]), [
      `Scaler role "consumer-scaler-role": role policy "consumer-scaler-access" allows "sqs:ReceiveMessage"; ${fix}.`,
      `Scaler role "consumer-scaler-role": role policy "consumer-scaler-access" grants it on "arn:aws:sqs:eu-west-1:${ACCOUNT}:*", not one queue's ARN; ${fix}.`,
      `Scaler role "consumer-scaler-role": role policy "consumer-scaler-access" allows NotAction; ${fix}.`,
      `Scaler role "consumer-scaler-role": role policy "consumer-scaler-access" grants it on "*", not one queue's ARN; ${fix}.`,
    ]);
  });

  it("finds the role through the TriggerAuthentication even when its trust names another subject, and rejects attached policies", async () => {
    const { role, policy, triggerAuthentication } = scalerStack(
      [readDepth],
      "system:serviceaccount:platform:autoscaler",
    );
    const attachment = resource(AWS.rolePolicyAttachment, "scaler-admin", {
      role: "consumer-dev-scaler",
      policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
    });
    assert.deepEqual(await messages([role, policy, attachment]), [], "not a scaler role without the trigger");
    assert.deepEqual(await messages([role, policy, attachment, triggerAuthentication]), [
      'Scaler role "consumer-scaler-role": has policy arn:aws:iam::aws:policy/AdministratorAccess attached; a scaler role carries only its own role policy; grant only sqs:GetQueueAttributes on this stack\'s queue ARN.',
    ]);
  });

  it("judges a document echoed in the role's inlinePolicies once", async () => {
    const { role, policy } = scalerStack([{ Effect: "Allow", Action: "sqs:*", Resource: queueArn("consumer-dev") }]);
    const echoed = edit(role, { inlinePolicies: [{ name: "consumer-scaler-access", policy: policy.props["policy"] }] });
    assert.equal((await messages([echoed, policy])).length, 1);
  });

  it("leaves the consumer's own workload role to the IAM rules", async () => {
    const { role, policy } = scalerStack(
      [{ Effect: "Allow", Action: "sqs:ReceiveMessage", Resource: queueArn("consumer-dev") }],
      "system:serviceaccount:consumer-dev:consumer",
    );
    assert.deepEqual(await messages([role, policy]), []);
  });
});

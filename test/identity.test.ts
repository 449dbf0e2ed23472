/**
 * IRSA, evaluated by a real IAM policy evaluator (@cloud-copilot/iam-simulate) on the documents the program
 * actually registers: who may assume the consumer's role, and what the role may do.
 */
import type * as IamSimulate from "@cloud-copilot/iam-simulate";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { SQS_ACTIONS_USED } from "../consumer/src/contract";
import {
  STS_AUDIENCE,
  issuerHostPath,
  queueConsumerPolicy,
  serviceAccountSubject,
  webIdentityTrustPolicy,
  type PolicyDocument,
} from "../infra/iam-documents";
import { ACCOUNT_ID, type ProgramRun } from "./helpers/mocks";
import { assertSucceeded, jsonInput, named, oneOfType, runProgram, scenario } from "./helpers/program";

type Simulator = typeof IamSimulate;
type EvaluationResult = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

let simulator: Simulator;
let run: ProgramRun;
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

before(async () => {
  simulator = await import("@cloud-copilot/iam-simulate");
  run = await runProgram(await scenario("irsa", {}));
  assertSucceeded(run);
  const role = named(run, "identity-role");
  trust = jsonInput(role, "assumeRolePolicy") as PolicyDocument;
  access = jsonInput(oneOfType(run, "aws:iam/rolePolicy:RolePolicy"), "policy") as PolicyDocument;
  queuePolicy = jsonInput(named(run, "queue-queue-tls-only"), "policy") as PolicyDocument;
  roleArn = String(run.outputs.roleArn);
  oidcProviderArn = String(run.outputs.oidcProviderArn);
  issuer = issuerHostPath(String(run.outputs.oidcProviderUrl));
  namespace = String(run.outputs.namespace);
  const sa = oneOfType(run, "kubernetes:core/v1:ServiceAccount").inputs.metadata as { name: string };
  serviceAccount = sa.name;
  queueArn = `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:${String(named(run, "queue-queue").inputs.name)}`;
  deadLetterQueueArn = `arn:aws:sqs:us-west-2:${ACCOUNT_ID}:${String(named(run, "queue-dlq").inputs.name)}`;
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
    assert.equal(assume({ sub: serviceAccountSubject("sqs-eks-consumer-other", serviceAccount) }), "ImplicitlyDenied");
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

describe("webIdentityTrustPolicy (pure)", () => {
  it("accepts the issuer with or without its scheme", () => {
    const args = { oidcProviderArn: "arn:aws:iam::1:oidc-provider/o/id/X", namespace: "ns", serviceAccount: "sa" };
    assert.deepEqual(
      webIdentityTrustPolicy({ ...args, oidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/X/" }),
      webIdentityTrustPolicy({ ...args, oidcIssuerUrl: "oidc.eks.eu-west-1.amazonaws.com/id/X" }),
    );
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS } from "../lib/types";
import { irsaTrustPinned, workloadRoleLeastPrivilege } from "../rules/iam";
import { edit, resourceViolations, stackViolations, withJson } from "./harness";
import { ACCOUNT, ISSUER, OIDC_PROVIDER_ARN, SUBJECT, goodResources, goodStack, queueArn, resource, urnOf } from "./fixtures/good-stack";

const SUB = `${ISSUER}:sub`;
const AUD = `${ISSUER}:aud`;
const PREFIX = `Role "consumer-role" trusts OIDC provider ${ISSUER}:`;

function trust(condition: Record<string, unknown>, action: unknown = "sts:AssumeRoleWithWebIdentity") {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Federated: OIDC_PROVIDER_ARN }, Action: action, Condition: condition }],
  };
}

async function trustViolations(document: unknown, config?: Record<string, unknown>) {
  return resourceViolations(irsaTrustPinned, withJson(goodResources().role, "assumeRolePolicy", document), config);
}

describe("irsa-trust-pinned", () => {
  it("passes the program's IRSA trust and ignores roles trusting AWS services", async () => {
    const { role, nodeRole } = goodResources();
    assert.deepEqual(await resourceViolations(irsaTrustPinned, role), []);
    assert.deepEqual(await resourceViolations(irsaTrustPinned, nodeRole), []);
  });

  it("accepts condition keys in any case and single-element lists", async () => {
    const document = trust({ StringEquals: { [SUB.toUpperCase()]: [SUBJECT], [AUD]: ["sts.amazonaws.com"] } });
    assert.deepEqual(await trustViolations(document), []);
  });

  it("rejects a wildcard subject", async () => {
    const document = trust({ StringEquals: { [SUB]: "system:serviceaccount:consumer-dev:*", [AUD]: "sts.amazonaws.com" } });
    assert.deepEqual(await trustViolations(document), [
      `${PREFIX} "${SUB}" is "system:serviceaccount:consumer-dev:*", not one exact service account; use "system:serviceaccount:<namespace>:<serviceaccount>" without wildcards.`,
    ]);
  });

  it("rejects a subject matched with StringLike", async () => {
    const document = trust({ StringLike: { [SUB]: "system:serviceaccount:*" }, StringEquals: { [AUD]: "sts.amazonaws.com" } });
    assert.deepEqual(await trustViolations(document), [
      `${PREFIX} "${SUB}" is matched with StringLike, which accepts patterns; pin it with StringEquals to "system:serviceaccount:<namespace>:<serviceaccount>".`,
    ]);
  });

  it("rejects a trust that pins neither :sub nor :aud", async () => {
    assert.deepEqual(await trustViolations(trust({})), [
      `${PREFIX} "${SUB}" is not pinned; add Condition StringEquals "${SUB}": "system:serviceaccount:<namespace>:<serviceaccount>".`,
      `${PREFIX} "${AUD}" is not pinned; add Condition StringEquals "${AUD}": "sts.amazonaws.com".`,
    ]);
  });

  it("rejects several subjects, a subject that is no service account, and a wrong audience", async () => {
    const several = trust({ StringEquals: { [SUB]: [SUBJECT, "system:serviceaccount:other:sa"], [AUD]: "sts.amazonaws.com" } });
    assert.deepEqual(await trustViolations(several), [`${PREFIX} "${SUB}" lists 2 subjects; pin exactly one service account.`]);
    const notServiceAccount = trust({ StringEquals: { [SUB]: "system:node:ip-10-0-0-1", [AUD]: ["sts.amazonaws.com", "other"] } });
    assert.deepEqual(await trustViolations(notServiceAccount), [
      `${PREFIX} "${SUB}" is "system:node:ip-10-0-0-1", not one exact service account; use "system:serviceaccount:<namespace>:<serviceaccount>" without wildcards.`,
      `${PREFIX} "${AUD}" is "sts.amazonaws.com", "other"; it must be "sts.amazonaws.com" alone.`,
    ]);
  });

  it("rejects actions beyond sts:AssumeRoleWithWebIdentity", async () => {
    const document = trust({ StringEquals: { [SUB]: SUBJECT, [AUD]: "sts.amazonaws.com" } }, ["sts:AssumeRoleWithWebIdentity", "sts:*"]);
    assert.deepEqual(await trustViolations(document), [`${PREFIX} it allows "sts:*"; allow only "sts:AssumeRoleWithWebIdentity".`]);
  });

  it("rejects a trust policy it cannot read", async () => {
    const role = edit(goodResources().role, { assumeRolePolicy: "{not json" });
    assert.deepEqual(await resourceViolations(irsaTrustPinned, role), [
      `Role "consumer-role": assumeRolePolicy is not valid JSON, so its trust cannot be checked; pass the trust policy as a JSON document.`,
    ]);
  });

  it("checks the configured audience", async () => {
    const config = { audience: "https://example.com/irsa" };
    assert.deepEqual(await resourceViolations(irsaTrustPinned, goodResources().role, config), [
      `${PREFIX} "${AUD}" is "sts.amazonaws.com"; it must be "https://example.com/irsa" alone.`,
    ]);
    const document = trust({ StringEquals: { [SUB]: SUBJECT, [AUD]: "https://example.com/irsa" } });
    assert.deepEqual(await trustViolations(document, config), []);
  });
});

function statementWith(fields: Record<string, unknown>) {
  return { Version: "2012-10-17", Statement: [{ Effect: "Allow", ...fields }] };
}

describe("workload-role-least-privilege", () => {
  const rolePolicyUrn = urnOf(AWS.rolePolicy, "consumer-access");

  async function withAccessPolicy(document: unknown) {
    const good = goodResources();
    return stackViolations(workloadRoleLeastPrivilege, Object.values({ ...good, rolePolicy: withJson(good.rolePolicy, "policy", document) }));
  }

  it("passes the program's access policy and ignores node roles carrying AWS managed policies", async () => {
    assert.deepEqual(await stackViolations(workloadRoleLeastPrivilege, goodStack()), []);
  });

  it("rejects sqs:* and * actions", async () => {
    const findings = await withAccessPolicy(statementWith({ Action: ["sqs:*", "*"], Resource: queueArn("consumer-dev") }));
    assert.deepEqual(findings, [
      {
        message: `Workload role "consumer-role": role policy "consumer-access" allows wildcard action "sqs:*"; list the exact actions the workload calls.`,
        urn: rolePolicyUrn,
      },
      {
        message: `Workload role "consumer-role": role policy "consumer-access" allows wildcard action "*"; list the exact actions the workload calls.`,
        urn: rolePolicyUrn,
      },
    ]);
  });

  it("rejects account-wide and wildcard queue ARNs", async () => {
    const accountWide = `arn:aws:sqs:eu-west-1:${ACCOUNT}:*`;
    const findings = await withAccessPolicy(statementWith({ Action: "sqs:ReceiveMessage", Resource: [accountWide, "*"] }));
    assert.deepEqual(
      findings.map((f) => f.message),
      [
        `Workload role "consumer-role": role policy "consumer-access" allows wildcard resource "${accountWide}"; name the exact ARN of each queue (or other resource) it uses.`,
        `Workload role "consumer-role": role policy "consumer-access" allows wildcard resource "*"; name the exact ARN of each queue (or other resource) it uses.`,
      ],
    );
  });

  it("rejects NotAction and NotResource in Allow statements, and ignores Deny statements", async () => {
    const document = {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", NotAction: "iam:*", NotResource: queueArn("other") },
        { Effect: "Deny", Action: "*", Resource: "*" },
      ],
    };
    assert.deepEqual(
      (await withAccessPolicy(document)).map((f) => f.message),
      [
        `Workload role "consumer-role": role policy "consumer-access" allows NotAction, which grants every action not listed; list the allowed actions instead.`,
        `Workload role "consumer-role": role policy "consumer-access" allows NotResource, which grants every resource not listed; name the resources instead.`,
      ],
    );
  });

  it("rejects attached policies the stack does not define, such as AWS managed ones", async () => {
    const attachment = resource(AWS.rolePolicyAttachment, "consumer-sqs-full", {
      role: goodResources().role.props["name"],
      policyArn: "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
    });
    assert.deepEqual(await stackViolations(workloadRoleLeastPrivilege, [...goodStack(), attachment]), [
      {
        message: `Workload role "consumer-role" has policy arn:aws:iam::aws:policy/AmazonSQSFullAccess attached, which this stack does not define, so its permissions cannot be checked; attach only policies this stack defines, scoped to the workload's own resources.`,
        urn: attachment.urn,
      },
    ]);
  });

  it("checks managed policies the stack defines and attaches, reporting on the policy", async () => {
    const policyArn = `arn:aws:iam::${ACCOUNT}:policy/consumer-extra`;
    const policy = resource(AWS.policy, "consumer-extra", {
      arn: policyArn,
      policy: JSON.stringify(statementWith({ Action: "sqs:Get*", Resource: queueArn("consumer-dev") })),
    });
    const attachment = resource(AWS.rolePolicyAttachment, "consumer-extra", { role: goodResources().role.props["id"], policyArn });
    assert.deepEqual(await stackViolations(workloadRoleLeastPrivilege, [...goodStack(), policy, attachment]), [
      {
        message: `Workload role "consumer-role": policy "consumer-extra" allows wildcard action "sqs:Get*"; list the exact actions the workload calls.`,
        urn: policy.urn,
      },
    ]);
  });

  it("checks the role's own inline policies, once even when stack outputs echo a role policy there", async () => {
    const good = goodResources();
    const wildcard = JSON.stringify(statementWith({ Action: "sqs:*", Resource: queueArn("consumer-dev") }));
    const role = edit(good.role, {
      inlinePolicies: [
        { name: "echo-of-consumer-access", policy: good.rolePolicy.props["policy"] },
        { name: "extra", policy: wildcard },
        { name: "", policy: "" },
      ],
    });
    assert.deepEqual(await stackViolations(workloadRoleLeastPrivilege, Object.values({ ...good, role })), [
      {
        message: `Workload role "consumer-role": inline policy "extra" allows wildcard action "sqs:*"; list the exact actions the workload calls.`,
        urn: role.urn,
      },
    ]);
  });

  it("leaves roles that trust no OIDC provider alone", async () => {
    const good = goodResources();
    const nodePolicy = resource(AWS.rolePolicy, "node-extra", {
      role: good.nodeRole.props["name"],
      policy: JSON.stringify(statementWith({ Action: "*", Resource: "*" })),
    });
    assert.deepEqual(await stackViolations(workloadRoleLeastPrivilege, [...goodStack(), nodePolicy]), []);
  });
});

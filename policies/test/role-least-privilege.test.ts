import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS } from "../lib/types";
import { DEFAULT_NODE_MANAGED_POLICIES } from "../lib/role-permissions";
import { roleLeastPrivilege } from "../rules/iam";
import { edit, stackViolations, withJson } from "./harness";
import {
  accessPolicy,
  ACCOUNT,
  goodResources,
  goodStack,
  queueArn,
  resource,
  roleArn,
  urnOf,
} from "./fixtures/good-stack";

const CONSUMER = "sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility, sqs:GetQueueAttributes";

function statementWith(fields: Record<string, unknown>) {
  return { Version: "2012-10-17", Statement: [{ Effect: "Allow", ...fields }] };
}

async function messages(
  resources: readonly ReturnType<typeof resource>[],
  config?: Record<string, unknown>,
): Promise<string[]> {
  return (await stackViolations(roleLeastPrivilege, resources, config)).map((f) => f.message);
}

async function withAccessPolicy(document: unknown) {
  const good = goodResources();
  return stackViolations(
    roleLeastPrivilege,
    Object.values({ ...good, rolePolicy: withJson(good.rolePolicy, "policy", document) }),
  );
}

const PREFIX = `Role "consumer-role" (consumer): role policy "consumer-access"`;

describe("role-least-privilege: the consumer's allow-list", () => {
  it("passes the program's access policy and the node role's managed policies", async () => {
    assert.deepEqual(await stackViolations(roleLeastPrivilege, goodStack()), []);
  });

  it("judges patterns by the actions they grant: sqs:Get* grants sqs:GetQueueUrl, sqs:* grants more, * reaches every service", async () => {
    const findings = await withAccessPolicy(
      statementWith({ Action: ["sqs:Get*", "sqs:*", "*"], Resource: queueArn("consumer-dev") }),
    );
    assert.equal(findings.length, 3);
    assert.equal(
      findings[0]?.message,
      `${PREFIX} statement 1 allows "sqs:Get*", which grants "sqs:GetQueueUrl"; a consumer role may only use ${CONSUMER}.`,
    );
    assert.match(
      findings[1]?.message ?? "",
      /statement 1 allows "sqs:\*", which grants "sqs:AddPermission", .* and \d+ more; a consumer role/,
    );
    assert.equal(
      findings[2]?.message,
      `${PREFIX} statement 1 allows "*", which grants actions of every service; a consumer role may only use ${CONSUMER}.`,
    );
    assert.ok(findings.every((f) => f.urn === urnOf(AWS.rolePolicy, "consumer-access")));
  });

  it("serves one queue, never the dead-letter queue: a grant naming the DLQ too is reported twice", async () => {
    const findings = await withAccessPolicy(
      statementWith({
        Action: "sqs:ReceiveMessage",
        Resource: [queueArn("consumer-dev"), queueArn("consumer-dev-dlq")],
      }),
    );
    assert.deepEqual(
      findings.map((f) => [f.message, f.urn]),
      [
        [
          `Role "consumer-role" (consumer) may act on 2 queues; a consumer role serves exactly one queue.`,
          urnOf(AWS.role, "consumer-role"),
        ],
        [
          `Role "consumer-role" (consumer) may act on "consumer-dlq", the dead-letter queue of "consumer-queue"; workloads serve the source queue, and moving dead letters back is an operator's redrive.`,
          urnOf(AWS.role, "consumer-role"),
        ],
      ],
    );
  });

  it("lets the consumer read the DLQ's attributes (its depth), which reaches no message, but nothing more on it", async () => {
    const base = accessPolicy();
    const withDlq = (Action: unknown) => ({
      ...base,
      Statement: [
        ...(base["Statement"] as unknown[]),
        { Effect: "Allow", Action, Resource: queueArn("consumer-dev-dlq") },
      ],
    });
    assert.deepEqual(await withAccessPolicy(withDlq("sqs:GetQueueAttributes")), []);
    const receive = (await withAccessPolicy(withDlq(["sqs:GetQueueAttributes", "sqs:ReceiveMessage"]))).map(
      (f) => f.message,
    );
    assert.equal(receive.length, 2, receive.join("\n"));
  });

  it("accepts a pattern that grants only allowed actions", async () => {
    assert.deepEqual(
      await withAccessPolicy(
        statementWith({ Action: ["sqs:ReceiveMess*", "SQS:deletemessage"], Resource: queueArn("consumer-dev") }),
      ),
      [],
    );
  });

  it("rejects any action outside the allow-list, such as sts:AssumeRole on another role", async () => {
    const document = {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "sqs:ReceiveMessage", Resource: queueArn("consumer-dev") },
        { Sid: "Hop", Effect: "Allow", Action: "sts:AssumeRole", Resource: roleArn("admin") },
      ],
    };
    assert.deepEqual(
      (await withAccessPolicy(document)).map((f) => f.message),
      [
        `${PREFIX} statement 2 ("Hop") allows "sts:AssumeRole"; a consumer role may only use ${CONSUMER}.`,
        `${PREFIX} statement 2 ("Hop") allows resource "${roleArn("admin")}", which is not a queue of this stack.`,
      ],
    );
  });

  it("rejects wildcard resources and queues outside the stack", async () => {
    const accountWide = `arn:aws:sqs:eu-west-1:${ACCOUNT}:*`;
    const findings = await withAccessPolicy(
      statementWith({ Action: "sqs:ReceiveMessage", Resource: [accountWide, queueArn("someone-elses")] }),
    );
    assert.deepEqual(
      findings.map((f) => f.message),
      [
        `${PREFIX} statement 1 allows wildcard resource "${accountWide}"; name the exact ARN of the queue.`,
        `${PREFIX} statement 1 allows resource "${queueArn("someone-elses")}", which is not a queue of this stack.`,
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
        `${PREFIX} statement 1 allows NotAction, which grants every action not listed; list the allowed actions instead.`,
        `${PREFIX} statement 1 allows NotResource, which grants every resource not listed; name the queue's ARN instead.`,
      ],
    );
  });
});

describe("role-least-privilege: every way a policy reaches a role", () => {
  it("rejects AWS managed policies on a workload role, by attachment or managedPolicyArns", async () => {
    const good = goodResources();
    const attachment = resource(AWS.rolePolicyAttachment, "consumer-sqs-full", {
      role: good.role.props["name"],
      policyArn: "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
    });
    const role = edit(good.role, { managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] });
    assert.deepEqual(await messages([...Object.values({ ...good, role }), attachment]), [
      `Role "consumer-role" (consumer) has policy arn:aws:iam::aws:policy/AmazonSQSFullAccess attached, an AWS managed policy, which a consumer role may not carry (allowed: none).`,
      `Role "consumer-role" (consumer) has policy arn:aws:iam::aws:policy/ReadOnlyAccess attached, an AWS managed policy, which a consumer role may not carry (allowed: none).`,
    ]);
  });

  it("judges a Policy of the stack attached by RolePolicyAttachment or PolicyAttachment, blaming the policy", async () => {
    const policyArn = `arn:aws:iam::${ACCOUNT}:policy/consumer-extra`;
    const policy = resource(AWS.policy, "consumer-extra", {
      arn: policyArn,
      policy: JSON.stringify(statementWith({ Action: "sqs:PurgeQueue", Resource: queueArn("consumer-dev") })),
    });
    const byRole = resource(AWS.rolePolicyAttachment, "consumer-extra", {
      role: goodResources().role.props["id"],
      policyArn,
    });
    const byList = resource(AWS.policyAttachment, "consumer-extra-all", {
      roles: [goodResources().role.props["name"]],
      policyArn,
    });
    for (const attachment of [byRole, byList]) {
      assert.deepEqual(await stackViolations(roleLeastPrivilege, [...goodStack(), policy, attachment]), [
        {
          message: `Role "consumer-role" (consumer): policy "consumer-extra" statement 1 allows "sqs:PurgeQueue"; a consumer role may only use ${CONSUMER}.`,
          urn: policy.urn,
        },
      ]);
    }
  });

  it("checks the role's own inline policies, once even when stack outputs echo a role policy there", async () => {
    const good = goodResources();
    const role = edit(good.role, {
      inlinePolicies: [
        { name: "echo-of-consumer-access", policy: good.rolePolicy.props["policy"] },
        {
          name: "extra",
          policy: JSON.stringify(statementWith({ Action: "sqs:SendMessage", Resource: queueArn("consumer-dev") })),
        },
        { name: "", policy: "" },
      ],
    });
    assert.deepEqual(await stackViolations(roleLeastPrivilege, Object.values({ ...good, role })), [
      {
        message: `Role "consumer-role" (consumer): inline policy "extra" statement 1 allows "sqs:SendMessage"; a consumer role may only use ${CONSUMER}.`,
        urn: role.urn,
      },
    ]);
  });

  it("rejects documents and unlisted managed policies on the node role, and policies attached to roles outside the stack", async () => {
    const good = goodResources();
    const nodePolicy = resource(AWS.rolePolicy, "node-extra", {
      role: good.nodeRole.props["name"],
      policy: JSON.stringify(statementWith({ Action: "s3:GetObject", Resource: "*" })),
    });
    const nodeAdmin = resource(AWS.rolePolicyAttachment, "node-admin", {
      role: good.nodeRole.props["name"],
      policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
    });
    const foreign = resource(AWS.rolePolicy, "shared-node-extra", {
      role: "shared-cluster-node-role",
      policy: JSON.stringify(statementWith({ Action: "sqs:ReceiveMessage", Resource: "*" })),
    });
    assert.deepEqual(await messages([...goodStack(), nodePolicy, nodeAdmin, foreign]), [
      `Role "cluster-node-role" (node): role policy "node-extra" grants permissions to a node role, which may only carry the AWS managed policies docs/POLICY.md lists.`,
      `Role "cluster-node-role" (node) has policy arn:aws:iam::aws:policy/AdministratorAccess attached, an AWS managed policy, which a node role may not carry (allowed: ${DEFAULT_NODE_MANAGED_POLICIES.join(", ")}).`,
      `RolePolicy "shared-node-extra" attaches a policy to role shared-cluster-node-role, which this stack does not define, so that role's purpose and trust cannot be checked; attach policies only to roles of this stack.`,
    ]);
  });
});

describe("role-least-privilege: the scaler's allow-list", () => {
  const KEDA_ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
  function scalerRole() {
    return resource(AWS.role, "scaler-role", {
      name: "scaler-role",
      arn: roleArn("scaler-role"),
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${KEDA_ISSUER}` },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: {
                [`${KEDA_ISSUER}:sub`]: "system:serviceaccount:keda:keda-operator",
                [`${KEDA_ISSUER}:aud`]: "sts.amazonaws.com",
              },
            },
          },
        ],
      }),
    });
  }
  const scalerPolicy = (document: unknown) =>
    resource(AWS.rolePolicy, "scaler-access", { role: "scaler-role", policy: JSON.stringify(document) });

  it("passes sqs:GetQueueAttributes on the one queue", async () => {
    assert.deepEqual(
      await messages([
        ...goodStack(),
        scalerRole(),
        scalerPolicy(statementWith({ Action: "sqs:GetQueueAttributes", Resource: queueArn("consumer-dev") })),
      ]),
      [],
    );
  });

  it("rejects the consumer's actions and a second queue", async () => {
    const document = statementWith({
      Action: ["sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
      Resource: [queueArn("consumer-dev"), queueArn("consumer-dev-dlq")],
    });
    assert.deepEqual(await messages([...goodStack(), scalerRole(), scalerPolicy(document)]), [
      `Role "scaler-role" (scaler): role policy "scaler-access" statement 1 allows "sqs:ReceiveMessage"; a scaler role may only use sqs:GetQueueAttributes.`,
      `Role "scaler-role" (scaler) may read 2 queues; a scaler role watches exactly one queue.`,
    ]);
  });

  it("classifies by the configured scaler service accounts", async () => {
    const document = statementWith({ Action: "sqs:GetQueueAttributes", Resource: queueArn("consumer-dev") });
    // Under another operator identity the same role is a consumer role; GetQueueAttributes is on that list too.
    assert.deepEqual(
      await messages([...goodStack(), scalerRole(), scalerPolicy(document)], {
        scalerServiceAccounts: ["autoscaling:operator"],
      }),
      [],
    );
    const receive = statementWith({ Action: "sqs:ReceiveMessage", Resource: queueArn("consumer-dev") });
    assert.deepEqual(
      await messages([...goodStack(), scalerRole(), scalerPolicy(receive)], {
        scalerServiceAccounts: ["autoscaling:operator"],
      }),
      [],
    );
    assert.equal((await messages([...goodStack(), scalerRole(), scalerPolicy(receive)])).length, 1);
  });
});

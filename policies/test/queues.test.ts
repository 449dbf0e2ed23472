import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS } from "../lib/types";
import {
  dlqRetentionCoversSource,
  queueDeniesInsecureTransport,
  queuePolicyGrantsNothing,
  queueEncrypted,
  queueRedrivePolicy,
} from "../rules/queues";
import { edit, resourceViolations, stackViolations, withJson } from "./harness";
import {
  ACCOUNT,
  goodResources,
  goodStack,
  queueArn,
  queueUrl,
  resource,
  roleArn,
  tlsOnlyQueuePolicy,
} from "./fixtures/good-stack";

describe("queue-encrypted", () => {
  it("passes SQS-managed and KMS encryption", async () => {
    const { queue } = goodResources();
    assert.deepEqual(await resourceViolations(queueEncrypted, queue), []);
    const kms = edit(queue, { sqsManagedSseEnabled: undefined, kmsMasterKeyId: "alias/consumer" });
    assert.deepEqual(await resourceViolations(queueEncrypted, kms), []);
  });

  it("rejects a queue without encryption at rest", async () => {
    const plain = edit(goodResources().queue, { sqsManagedSseEnabled: false });
    assert.deepEqual(await resourceViolations(queueEncrypted, plain), [
      `Queue "consumer-queue" is not encrypted at rest; set sqsManagedSseEnabled: true, or kmsMasterKeyId to a KMS key.`,
    ]);
  });

  it("requires a customer managed key when configured to", async () => {
    const config = { requireCustomerManagedKey: true };
    const expected = [
      `Queue "consumer-queue" is not encrypted with a customer managed KMS key, which this pack's configuration (requireCustomerManagedKey) requires; set kmsMasterKeyId to your key's ARN or alias.`,
    ];
    assert.deepEqual(await resourceViolations(queueEncrypted, goodResources().queue, config), expected);
    const awsKey = edit(goodResources().queue, { kmsMasterKeyId: "alias/aws/sqs" });
    assert.deepEqual(await resourceViolations(queueEncrypted, awsKey, config), expected);
    const ownKey = edit(goodResources().queue, { kmsMasterKeyId: "alias/consumer" });
    assert.deepEqual(await resourceViolations(queueEncrypted, ownKey, config), []);
  });
});

describe("queue-redrive-policy", () => {
  it("passes a queue redriving to a DLQ in the stack, and does not ask the DLQ for one", async () => {
    assert.deepEqual(await stackViolations(queueRedrivePolicy, goodStack()), []);
  });

  it("rejects a queue without redrive policy that no queue uses as its DLQ", async () => {
    const good = goodResources();
    const queue = edit(good.queue, { redrivePolicy: undefined });
    const findings = await stackViolations(queueRedrivePolicy, Object.values({ ...good, queue }));
    const message = (name: string) =>
      `Queue "${name}" has no redrive policy and no queue in this stack uses it as a dead-letter queue; set redrivePolicy to {"deadLetterTargetArn": <DLQ ARN>, "maxReceiveCount": <n>} so failing messages leave the queue.`;
    assert.deepEqual(findings, [
      { message: message("consumer-dlq"), urn: good.dlq.urn },
      { message: message("consumer-queue"), urn: good.queue.urn },
    ]);
  });

  it("treats a queue with a redriveAllowPolicy as a dead-letter queue", async () => {
    const good = goodResources();
    const queue = edit(good.queue, { redrivePolicy: undefined });
    const dlq = edit(good.dlq, {
      redriveAllowPolicy: JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [queueArn("consumer-dev")] }),
    });
    const findings = await stackViolations(queueRedrivePolicy, Object.values({ ...good, queue, dlq }));
    assert.deepEqual(
      findings.map((f) => f.urn),
      [good.queue.urn],
    );
  });

  it("reads a separate RedrivePolicy resource", async () => {
    const good = goodResources();
    const queue = edit(good.queue, { redrivePolicy: undefined });
    const redrive = resource(AWS.queueRedrivePolicy, "consumer-redrive", {
      queueUrl: queueUrl("consumer-dev"),
      redrivePolicy: good.queue.props["redrivePolicy"],
    });
    assert.deepEqual(await stackViolations(queueRedrivePolicy, [...Object.values({ ...good, queue }), redrive]), []);
  });

  it("rejects redrive policies that are invalid, incomplete, or point outside the stack", async () => {
    const good = goodResources();
    const cases: [unknown, string][] = [
      ["{", "redrivePolicy is not valid JSON"],
      [{ maxReceiveCount: 5 }, "redrivePolicy has no deadLetterTargetArn"],
      [
        { deadLetterTargetArn: queueArn("consumer-dev-dlq"), maxReceiveCount: 0 },
        "redrivePolicy's maxReceiveCount must be a whole number from 1 to 1000",
      ],
      [
        { deadLetterTargetArn: queueArn("elsewhere"), maxReceiveCount: "5" },
        `redrivePolicy's deadLetterTargetArn ${queueArn("elsewhere")} is not a queue in this stack, so the dead-letter queue's encryption and retention cannot be checked; create the DLQ in this stack`,
      ],
    ];
    for (const [document, problem] of cases) {
      const queue =
        typeof document === "string"
          ? edit(good.queue, { redrivePolicy: document })
          : withJson(good.queue, "redrivePolicy", document);
      const findings = await stackViolations(queueRedrivePolicy, Object.values({ ...good, queue }));
      assert.deepEqual(findings[0], { message: `Queue "consumer-queue": ${problem}.`, urn: good.queue.urn });
    }
  });
});

describe("dlq-retention-covers-source", () => {
  it("passes a DLQ that keeps messages longer than its source", async () => {
    assert.deepEqual(await stackViolations(dlqRetentionCoversSource, goodStack()), []);
  });

  it("rejects a DLQ that keeps messages shorter than its source, counting SQS's 4-day default", async () => {
    const good = goodResources();
    const dlq = edit(good.dlq, { messageRetentionSeconds: 3600 });
    const queue = edit(good.queue, { messageRetentionSeconds: undefined });
    assert.deepEqual(await stackViolations(dlqRetentionCoversSource, Object.values({ ...good, dlq, queue })), [
      {
        message: `Queue "consumer-dlq" keeps messages 3600 s, less than the 345600 s of its source queue "consumer-queue"; set its messageRetentionSeconds to at least 345600, because a message's age in the DLQ counts from its first enqueue and a shorter retention drops failed messages early.`,
        urn: good.dlq.urn,
      },
    ]);
  });
});

describe("queue-denies-insecure-transport", () => {
  const message = (name: string, found = "has no queue policy") =>
    `Queue "${name}" ${found} that denies every request over plain HTTP; use one statement {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": <queue ARN>, "Condition": {"Bool": {"aws:SecureTransport": "false"}}} and no other condition in it.`;

  it("passes queues whose one policy denies aws:SecureTransport false", async () => {
    assert.deepEqual(await stackViolations(queueDeniesInsecureTransport, goodStack()), []);
  });

  it("rejects a queue with no such policy, or one that only allows", async () => {
    const good = goodResources();
    const allowOnly = withJson(good.queuePolicy, "policy", {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { AWS: "*" }, Action: "sqs:SendMessage", Resource: queueArn("consumer-dev") },
      ],
    });
    const { dlqPolicy: _dropped, ...withoutDlqPolicy } = { ...good, queuePolicy: allowOnly };
    assert.deepEqual(await stackViolations(queueDeniesInsecureTransport, Object.values(withoutDlqPolicy)), [
      { message: message("consumer-dlq"), urn: good.dlq.urn },
      {
        message: message("consumer-queue", `has a policy (QueuePolicy "consumer-queue-tls") without a statement`),
        urn: good.queuePolicy.urn,
      },
    ]);
  });

  it("rejects a deny narrowed by action, principal, resource, an extra condition or NotPrincipal", async () => {
    const narrowings: ((statement: Record<string, unknown>) => void)[] = [
      (s) => (s["Action"] = "sqs:SendMessage"),
      (s) => (s["Principal"] = { AWS: `arn:aws:iam::${ACCOUNT}:root` }),
      (s) => (s["Resource"] = queueArn("another-queue")),
      (s) =>
        (s["Condition"] = { Bool: { "aws:SecureTransport": "false" }, IpAddress: { "aws:SourceIp": "10.0.0.0/8" } }),
      (s) => {
        delete s["Principal"];
        s["NotPrincipal"] = { AWS: `arn:aws:iam::${ACCOUNT}:root` };
      },
      (s) => (s["Condition"] = { Bool: { "aws:SecureTransport": "true" } }),
    ];
    for (const narrow of narrowings) {
      const good = goodResources();
      const document = tlsOnlyQueuePolicy("consumer-dev");
      narrow((document["Statement"] as Record<string, unknown>[])[0] ?? {});
      const queuePolicy = withJson(good.queuePolicy, "policy", document);
      const findings = await stackViolations(queueDeniesInsecureTransport, Object.values({ ...good, queuePolicy }));
      assert.deepEqual(
        findings.map((f) => f.urn),
        [good.queuePolicy.urn],
        JSON.stringify(document),
      );
    }
  });

  it("accepts Action * and Resource * in the deny", async () => {
    const good = goodResources();
    const document = tlsOnlyQueuePolicy("consumer-dev");
    Object.assign((document["Statement"] as Record<string, unknown>[])[0] ?? {}, {
      Action: "*",
      Resource: "*",
      Principal: { AWS: "*" },
    });
    assert.deepEqual(
      await stackViolations(
        queueDeniesInsecureTransport,
        Object.values({ ...good, queuePolicy: withJson(good.queuePolicy, "policy", document) }),
      ),
      [],
    );
  });

  it("rejects several policies on one queue (SQS keeps only the last), from QueuePolicy resources or Queue.policy", async () => {
    const good = goodResources();
    const second = resource(AWS.queuePolicy, "consumer-queue-extra", {
      queueUrl: queueUrl("consumer-dev"),
      policy: good.queuePolicy.props["policy"],
    });
    const queue = edit(good.dlq, { policy: good.dlqPolicy.props["policy"] });
    const findings = await stackViolations(queueDeniesInsecureTransport, [
      ...Object.values({ ...good, dlq: queue }),
      second,
    ]);
    assert.deepEqual(
      findings.map((f) => f.message),
      [
        `Queue "consumer-dlq" has 2 resource policies (Queue "consumer-dlq" .policy, QueuePolicy "consumer-dlq-tls"); SQS keeps one policy per queue, the last one applied, so the others are silently replaced; merge them into one QueuePolicy.`,
        `Queue "consumer-queue" has 2 resource policies (QueuePolicy "consumer-queue-tls", QueuePolicy "consumer-queue-extra"); SQS keeps one policy per queue, the last one applied, so the others are silently replaced; merge them into one QueuePolicy.`,
      ],
    );
  });
});

describe("queue-policy-grants-nothing", () => {
  it("passes deny-only queue policies", async () => {
    assert.deepEqual(await stackViolations(queuePolicyGrantsNothing, goodStack()), []);
  });

  it("rejects an Allow beside the TLS deny, in a QueuePolicy or Queue.policy", async () => {
    const good = goodResources();
    const document = tlsOnlyQueuePolicy("consumer-dev");
    document["Statement"] = [
      ...(document["Statement"] as unknown[]),
      { Effect: "Allow", Principal: "*", Action: "sqs:*" },
    ];
    const queuePolicy = withJson(good.queuePolicy, "policy", document);
    const dlq = withJson(good.dlq, "policy", {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", NotPrincipal: { AWS: roleArn("x") }, NotAction: "sqs:DeleteQueue", Resource: "*" },
      ],
    });
    assert.deepEqual(await stackViolations(queuePolicyGrantsNothing, Object.values({ ...good, queuePolicy, dlq })), [
      {
        message: `Queue "consumer-dlq" .policy on queue "consumer-dlq": statement 1 allows every principal but those listed (NotPrincipal) to use every action but those listed (NotAction); a queue policy here only denies, grant access through a role policy instead (role-least-privilege checks it).`,
        urn: dlq.urn,
      },
      {
        message: `QueuePolicy "consumer-queue-tls" on queue "consumer-queue": statement 2 allows everyone (*) to use sqs:*; a queue policy here only denies, grant access through a role policy instead (role-least-privilege checks it).`,
        urn: queuePolicy.urn,
      },
    ]);
  });
});

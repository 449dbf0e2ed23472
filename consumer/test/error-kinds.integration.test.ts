import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { EmulatorApp } from "../local/emulator";
import { sendMessages } from "./helpers/queue";
import { startTestBed, startTestConsumer } from "./helpers/test-bed";

const ROLE_ARN = "arn:aws:iam::123456789012:role/sqs-eks-consumer-dev-consumer";

/** An emulator hook: ReceiveMessage is answered with an SQS KMS error, as SQS sends it (JSON protocol, query-compatible code). */
function failReceives(type: string, queryCode: string) {
  return (app: EmulatorApp): void => {
    app.addHook("preHandler", (request, reply, done) => {
      if (request.headers["x-amz-target"] !== "AmazonSQS.ReceiveMessage") return done();
      void reply
        .code(400)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-query-error", `${queryCode};Sender`)
        .send(
          JSON.stringify({
            __type: `com.amazonaws.sqs#${type}`,
            message: "The request was rejected because of the KMS key state",
          }),
        );
    });
  };
}

describe("error kinds through the real SDK", () => {
  for (const [type, queryCode, specific] of [
    ["KmsAccessDenied", "KMS.AccessDeniedException", /KMS denied/],
    ["KmsDisabled", "KMS.DisabledException", /is disabled/],
    ["KmsThrottled", "KMS.ThrottlingException", /KmsDataKeyReusePeriodSeconds/],
  ] as const) {
    test(`${type} on receive: kind kms, a hint naming the key policy and the role`, async () => {
      const bed = await startTestBed({ configure: failReceives(type, queryCode) });
      const { running, logs } = await startTestConsumer(bed, { env: { AWS_ROLE_ARN: ROLE_ARN } });
      try {
        const warning = await logs.waitFor((l) => l.event === "aws-error", 10_000, "the KMS error");
        assert.equal(warning.kind, "kms");
        assert.match(String(warning.hint), specific);
        assert.match(
          String(warning.hint),
          /key policy of the queue's KMS key must allow kms:Decrypt to role arn:aws:iam::123456789012:role\/sqs-eks-consumer-dev-consumer/,
        );
        const readyz = await fetch(`http://127.0.0.1:${running.healthPort}/readyz`);
        assert.equal(readyz.status, 503);
        assert.match(await readyz.text(), /^not ready: kms: /);
      } finally {
        await running.stop();
        await bed.close();
      }
    });
  }

  test("a queue URL in another region than AWS_REGION: requests signed for the queue's region, and the difference logged", async () => {
    const scopes: string[] = [];
    const bed = await startTestBed({
      configure: (app) =>
        app.addHook("onRequest", (request, _reply, done) => {
          const scope = /Credential=[^/]+\/\d+\/([^/]+)\/sqs\//.exec(String(request.headers.authorization ?? ""))?.[1];
          if (scope !== undefined && request.headers["x-amz-target"] === "AmazonSQS.ReceiveMessage") scopes.push(scope);
          done();
        }),
    });
    assert.match(bed.queue.queueUrl, /\/\/sqs\.us-east-1\./, "the emulator's queue URL names us-east-1");
    // The EKS webhook sets AWS_REGION to the cluster's region.
    const { running, logs } = await startTestConsumer(bed, { env: { AWS_REGION: "eu-west-1" } });
    try {
      const region = await logs.waitFor((l) => l.event === "region", 5_000, "the region line");
      assert.equal(region.queueRegion, "us-east-1");
      assert.equal(region.awsRegion, "eu-west-1");
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["across regions"]);
      await logs.waitFor((l) => l.body === "across regions", 10_000, "the message");
      assert.ok(scopes.length > 0);
      assert.deepEqual([...new Set(scopes)], ["us-east-1"]);
    } finally {
      await running.stop();
      await bed.close();
    }
  });
});

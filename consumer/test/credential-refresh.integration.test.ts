import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EmulatorApp } from "../local/emulator";
import { buildBundle, killConsumers, probe, spawnConsumer } from "./helpers/consumer-process";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { StsStandIn } from "./helpers/sts-stand-in";
import { startTestBed, type TestBed } from "./helpers/test-bed";

const ROLE_ARN = "arn:aws:iam::123456789012:role/sqs-eks-consumer-dev";

/** How SQS (JSON protocol, query-compatible codes) answers a request signed with credentials it rejects. */
const REJECTIONS = {
  ExpiredToken: {
    status: 403,
    type: "com.amazon.coral.service#ExpiredTokenException",
    query: "ExpiredToken;Sender",
    message: "The security token included in the request is expired",
  },
  InvalidClientTokenId: {
    status: 403,
    type: "com.amazon.coral.service#InvalidClientTokenId",
    query: "InvalidClientTokenId;Sender",
    message: "The security token included in the request is invalid.",
  },
  UnrecognizedClientException: {
    status: 400,
    type: "com.amazon.coral.service#UnrecognizedClientException",
    query: "UnrecognizedClientException;Sender",
    message: "The security token included in the request is invalid.",
  },
} as const;

/** An emulator hook: every SQS request signed with a key in `rejected` is answered with `rejection`. */
function rejectKeys(rejected: Set<string>, rejection: (typeof REJECTIONS)[keyof typeof REJECTIONS]) {
  return (app: EmulatorApp): void => {
    app.addHook("preHandler", (request, reply, done) => {
      const key = /Credential=([^/]+)\//.exec(String(request.headers.authorization ?? ""))?.[1];
      if (key !== undefined && rejected.has(key)) {
        void reply
          .code(rejection.status)
          .header("content-type", "application/x-amz-json-1.0")
          .header("x-amzn-query-error", rejection.query)
          .send(JSON.stringify({ __type: rejection.type, message: rejection.message }));
        return;
      }
      done();
    });
  };
}

describe("credentials AWS rejects before their stated expiry", () => {
  let bed: TestBed;
  let sts: StsStandIn;
  let tokenFile: string;
  const bundle = buildBundle();
  const rejected = new Set<string>();
  afterEach(async () => {
    await killConsumers();
    await sts.stop();
    await bed.close();
  });

  for (const code of ["ExpiredToken", "InvalidClientTokenId", "UnrecognizedClientException"] as const) {
    test(`SQS answers ${code} to the first key of 1-hour credentials: a refresh per retry, recovery with the next key, a hint naming clock skew and revoked sessions`, async () => {
      rejected.clear();
      bed = await startTestBed({ configure: rejectKeys(rejected, REJECTIONS[code]) });
      tokenFile = join(mkdtempSync(join(tmpdir(), "irsa-")), "token");
      writeFileSync(tokenFile, "token-1");
      sts = new StsStandIn({ roleArn: ROLE_ARN, tokenFile, lifetimeSeconds: 3600 });
      await sts.start();
      const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...env } = bed.env;
      const consumer = spawnConsumer(bundle, {
        ...env,
        AWS_ROLE_ARN: ROLE_ARN,
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ENDPOINT_URL_STS: sts.endpoint,
        WAIT_TIME_SECONDS: "1",
      });
      const port = await consumer.healthPort();
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["first"]);
      await consumer.waitFor((l) => l.body === "first", 15_000, "the first message");
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
        10_000,
        "its delete",
      );
      assert.equal(sts.issued.length, 1);

      // Clock skew or a revoked session: the key is no longer accepted, an hour before it expires.
      rejected.add(sts.issued[0]!.accessKeyId);
      const warning = await consumer.waitFor((l) => l.event === "aws-error", 15_000, "the rejection");
      assert.equal(warning.kind, "credentials");
      assert.equal(warning.code, code);

      await eventually(() => sts.issued.length >= 2, 15_000, "STS asked for new credentials");
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["second"]);
      await consumer.waitFor((l) => l.body === "second", 15_000, "a message after the refresh");
      await eventually(async () => (await probe(port, "/readyz")).status === 200, 10_000, "ready again");
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
        10_000,
        "the second delete",
      );
      assert.match(String(warning.hint), /before their stated expiry.*clock is skewed.*sessions were revoked/);
      const rejectedRequests = bed.requests.filter((r) => r.accessKeyId === sts.issued[0]!.accessKeyId).length;
      assert.ok(
        sts.issued.length <= rejectedRequests + 1,
        `${sts.issued.length} credential sets for ${rejectedRequests} rejected requests: more than one refresh per rejection`,
      );
      consumer.child.kill("SIGTERM");
      assert.equal((await consumer.exited).code, 0);
    });
  }
});

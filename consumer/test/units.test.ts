import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelayMs, retryDelaySeconds } from "../src/backoff";
import { Capacity } from "../src/capacity";
import { summarizeCredentials } from "../src/credentials";
import { AWS_ERROR_KINDS, CredentialsUnavailableError, classifyAwsError } from "../src/errors";

const context = { queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders", region: "eu-west-1", roleArn: "arn:aws:iam::123456789012:role/consumer", tokenFile: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token" };
const awsError = (name: string, message: string, status = 400) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe("error classification and hints", () => {
  test("AccessDenied names the action, the principal and the role", () => {
    const c = classifyAwsError(awsError("AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/consumer/s is not authorized to perform: sqs:receivemessage on resource: arn:aws:sqs:eu-west-1:123456789012:orders", 403), context);
    assert.equal(c.kind, "access-denied");
    assert.match(c.hint, /IAM denied sqs:receivemessage to arn:aws:sts::123456789012:assumed-role\/consumer\/s; role arn:aws:iam::123456789012:role\/consumer/);
  });

  test("each failure maps to its kind", () => {
    const cases: [unknown, string, RegExp][] = [
      [awsError("QueueDoesNotExist", "The specified queue does not exist."), "queue-missing", /orders does not exist in eu-west-1/],
      [awsError("ExpiredToken", "The security token included in the request is expired"), "credentials", /expired/],
      [awsError("ThrottlingException", "Rate exceeded"), "throttling", /throttling/],
      [Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { code: "ECONNREFUSED" }), "network", /Cannot reach SQS in eu-west-1/],
      [awsError("InternalError", "We encountered an internal error", 500), "server", /server error/],
      [new CredentialsUnavailableError(awsError("InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider")), "credentials", /OIDC provider is registered in IAM/],
      [new CredentialsUnavailableError(awsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)), "credentials", /trust policy must name this cluster's OIDC provider/],
      [new CredentialsUnavailableError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })), "credentials", /Could not reach STS/],
      [awsError("SomethingNew", "surprise"), "unknown", /Unexpected/],
    ];
    for (const [error, kind, hint] of cases) {
      const c = classifyAwsError(error, context);
      assert.equal(c.kind, kind, String(error));
      assert.match(c.hint, hint);
      assert.ok(c.kind in AWS_ERROR_KINDS);
    }
  });

  test("without any IRSA variables, missing credentials point at the service account annotation", () => {
    const c = classifyAwsError(new CredentialsUnavailableError(new Error("Could not load credentials from any providers")), { queueUrl: context.queueUrl, region: "eu-west-1" });
    assert.match(c.hint, /annotate the service account with eks\.amazonaws\.com\/role-arn/);
  });
});

describe("backoff", () => {
  test("receive backoff grows exponentially, is capped, and is jittered down from the ceiling", () => {
    assert.deepEqual([0, 1, 2, 3].map((a) => backoffDelayMs(a, 200, 20_000, () => 1)), [200, 400, 800, 1600]);
    assert.equal(backoffDelayMs(50, 200, 20_000, () => 1), 20_000);
    assert.equal(backoffDelayMs(3, 200, 20_000, () => 0.5), 800);
  });

  test("retry delay of a failed message grows with its receive count, bounded; 0 disables it", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 9].map((n) => retryDelaySeconds(n, 1, 10)), [1, 2, 4, 8, 10, 10]);
    assert.equal(retryDelaySeconds(3, 0, 10), 0);
  });
});

describe("capacity", () => {
  test("reservations never exceed the limit; a release wakes a waiting loop; close wakes everyone with 0", async () => {
    const capacity = new Capacity(12);
    assert.equal(await capacity.reserve(10), 10);
    assert.equal(await capacity.reserve(10), 2);
    let third: number | undefined;
    const waiting = capacity.reserve(10).then((n) => (third = n));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(third, undefined, "reserved with no free slot");
    capacity.release(3);
    await waiting;
    assert.equal(third, 3);
    const closed = capacity.reserve(10);
    capacity.close();
    assert.equal(await closed, 0);
  });
});

describe("credential summary", () => {
  test("names the source the SDK tagged, with role and token file for web identity, never the keys", () => {
    const summary = summarizeCredentials(
      Object.assign({ accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token", expiration: new Date("2026-11-28T01:00:00Z") }, { $source: { CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN: "h" } }),
      { AWS_ROLE_ARN: context.roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: context.tokenFile },
    );
    assert.deepEqual(summary, { source: "web identity token (IRSA)", roleArn: context.roleArn, tokenFile: context.tokenFile, expiresAt: "2026-11-28T01:00:00.000Z" });
    assert.equal(summarizeCredentials({ $source: { CREDENTIALS_ENV_VARS: "g" } }, {}).source, "environment variables");
  });
});

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelayMs, retryDelaySeconds } from "../src/backoff";
import { Capacity } from "../src/capacity";
import { summarizeCredentials } from "../src/credentials";
import { CredentialsDeadlineError } from "../src/credential-chain";
import { RequestStalledError } from "../src/deadlines";
import { AWS_ERROR_KINDS, CredentialsUnavailableError, classifyAwsError } from "../src/errors";

const context = {
  queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
  region: "eu-west-1",
  roleArn: "arn:aws:iam::123456789012:role/consumer",
  tokenFile: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
};
const awsError = (name: string, message: string, status = 400) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe("error classification and hints", () => {
  test("AccessDenied names the action, the principal and the role", () => {
    const c = classifyAwsError(
      awsError(
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/consumer/s is not authorized to perform: sqs:receivemessage on resource: arn:aws:sqs:eu-west-1:123456789012:orders",
        403,
      ),
      context,
    );
    assert.equal(c.kind, "access-denied");
    assert.match(
      c.hint,
      /IAM denied sqs:receivemessage to arn:aws:sts::123456789012:assumed-role\/consumer\/s; role arn:aws:iam::123456789012:role\/consumer/,
    );
  });

  test("each failure maps to its kind", () => {
    const cases: [unknown, string, RegExp][] = [
      [
        awsError("QueueDoesNotExist", "The specified queue does not exist."),
        "queue-missing",
        /orders does not exist in eu-west-1/,
      ],
      [
        awsError("ExpiredToken", "The security token included in the request is expired"),
        "credentials",
        /clock is skewed.*revoked/,
      ],
      [awsError("ThrottlingException", "Rate exceeded"), "throttling", /throttling/],
      [
        Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { code: "ECONNREFUSED" }),
        "network",
        /Cannot reach SQS in eu-west-1/,
      ],
      [awsError("InternalError", "We encountered an internal error", 500), "server", /server error/],
      [
        new CredentialsUnavailableError(
          awsError("InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider"),
        ),
        "credentials",
        /OIDC provider is registered in IAM/,
      ],
      [
        new CredentialsUnavailableError(
          awsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403),
        ),
        "credentials",
        /trust policy must name this cluster's OIDC provider/,
      ],
      [
        new CredentialsUnavailableError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })),
        "credentials",
        /Could not reach STS/,
      ],
      [awsError("SomethingNew", "surprise"), "unknown", /Unexpected/],
    ];
    for (const [error, kind, hint] of cases) {
      const c = classifyAwsError(error, context);
      assert.equal(c.kind, kind, String(error));
      assert.match(c.hint, hint);
      assert.ok(c.kind in AWS_ERROR_KINDS);
    }
  });

  test("credentials AWS rejects before their stated expiry: kind credentials, a hint naming clock skew and revoked sessions", () => {
    for (const code of [
      "ExpiredToken",
      "ExpiredTokenException",
      "InvalidClientTokenId",
      "UnrecognizedClientException",
      "RequestExpired",
    ]) {
      const c = classifyAwsError(awsError(code, "The security token included in the request is invalid", 403), context);
      assert.equal(c.kind, "credentials", code);
      assert.match(
        c.hint,
        /before their stated expiry.*clock is skewed.*sessions were revoked.*new credentials at each retry/,
        code,
      );
    }
    assert.match(
      classifyAwsError(awsError("RequestExpired", "Request has expired."), context).hint,
      /signed for the queue's region \(eu-west-1\)/,
    );
  });

  test("signature errors: a hint about the clock and the region", () => {
    for (const code of ["SignatureDoesNotMatch", "InvalidSignatureException", "RequestTimeTooSkewed"]) {
      const c = classifyAwsError(
        awsError(code, "The request signature we calculated does not match the signature you provided.", 403),
        context,
      );
      assert.equal(c.kind, "credentials", code);
      assert.match(c.hint, /clock.*signed for the queue's region \(eu-west-1/, code);
    }
  });

  test("KMS errors, by modelled name and by query-compatible code: kind kms, a hint naming the key policy and the role", () => {
    const cases: [string, RegExp][] = [
      ["KmsAccessDenied", /KMS denied/],
      ["KMS.AccessDeniedException", /KMS denied/],
      ["KmsDisabled", /is disabled/],
      ["KMS.DisabledException", /is disabled/],
      ["KmsNotFound", /does not exist/],
      ["KMS.NotFoundException", /does not exist/],
      ["KmsInvalidState", /pending deletion/],
      ["KMS.InvalidStateException", /pending deletion/],
      ["KmsThrottled", /KmsDataKeyReusePeriodSeconds/],
      ["KMS.ThrottlingException", /KmsDataKeyReusePeriodSeconds/],
      ["KmsInvalidKeyUsage", /symmetric/],
      ["KmsOptInRequired", /subscription/],
    ];
    for (const [code, specific] of cases) {
      const c = classifyAwsError(awsError(code, "KMS said no", 400), context);
      assert.equal(c.kind, "kms", code);
      assert.match(c.hint, specific, code);
      assert.match(
        c.hint,
        /key policy of the queue's KMS key must allow kms:Decrypt to role arn:aws:iam::123456789012:role\/consumer/,
        code,
      );
    }
  });

  test("a stalled SQS call and a stalled credential source: network and credentials, with hints saying they did not answer", () => {
    const stalled = classifyAwsError(
      new RequestStalledError(
        Object.assign(new Error("a request has exceeded the configured 7000 ms requestTimeout."), {
          name: "TimeoutError",
        }),
      ),
      context,
    );
    assert.equal(stalled.kind, "network");
    assert.equal(stalled.code, "RequestStalled");
    assert.match(stalled.hint, /accepted the request but did not answer before the call's deadline/);
    const credentials = classifyAwsError(
      new CredentialsUnavailableError(new CredentialsDeadlineError(10_000)),
      context,
    );
    assert.equal(credentials.kind, "credentials");
    assert.equal(credentials.code, "CredentialsStalled");
    assert.match(credentials.hint, /did not answer within 10 s \(STS, for the web identity token in \/var\/run/);
  });

  test("without any IRSA variables, missing credentials point at the service account annotation", () => {
    const c = classifyAwsError(
      new CredentialsUnavailableError(new Error("Could not load credentials from any providers")),
      { queueUrl: context.queueUrl, region: "eu-west-1" },
    );
    assert.match(c.hint, /annotate the service account with eks\.amazonaws\.com\/role-arn/);
  });
});

describe("backoff", () => {
  test("receive backoff grows exponentially, is capped, and is jittered down from the ceiling", () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((a) => backoffDelayMs(a, 200, 20_000, () => 1)),
      [200, 400, 800, 1600],
    );
    assert.equal(
      backoffDelayMs(50, 200, 20_000, () => 1),
      20_000,
    );
    assert.equal(
      backoffDelayMs(3, 200, 20_000, () => 0.5),
      800,
    );
  });

  test("retry delay of a failed message grows with its receive count, bounded; 0 disables it", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 9].map((n) => retryDelaySeconds(n, 1, 10)),
      [1, 2, 4, 8, 10, 10],
    );
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
      Object.assign(
        {
          accessKeyId: "ASIAEXAMPLE",
          secretAccessKey: "secret",
          sessionToken: "token",
          expiration: new Date("2026-11-28T01:00:00Z"),
        },
        { $source: { CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN: "h" } },
      ),
      { AWS_ROLE_ARN: context.roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: context.tokenFile },
    );
    assert.deepEqual(summary, {
      source: "web identity token (IRSA)",
      roleArn: context.roleArn,
      tokenFile: context.tokenFile,
      expiresAt: "2026-11-28T01:00:00.000Z",
    });
    assert.equal(summarizeCredentials({ $source: { CREDENTIALS_ENV_VARS: "g" } }, {}).source, "environment variables");
  });
});

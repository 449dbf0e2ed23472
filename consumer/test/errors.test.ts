import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AWS_ERROR_KINDS,
  BatchAnswerInvalidError,
  ClockSkewError,
  ConsumerError,
  CredentialsStalledError,
  CredentialsUnavailableError,
  ERROR_CODES,
  HINTS,
  HandlerTimeoutError,
  HealthPortInUseError,
  ReceiveThrottledError,
  RequestStalledError,
  classifyAwsError,
} from "../src/errors";

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
      // SQS's message for OverLimit names in-flight messages, not request rate (API reference, ReceiveMessage).
      [
        awsError("OverLimit", "The maximum number of in flight messages is reached"),
        "throttling",
        /in-flight messages \(received and not yet deleted[^]*do not help/,
      ],
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
        5_000,
      ),
      context,
    );
    assert.equal(stalled.kind, "network");
    assert.equal(stalled.code, "RequestStalled");
    assert.match(
      stalled.hint,
      /accepted the request but did not answer before the call's deadline \(the long-poll wait plus 5 s\)/,
    );
    const credentials = classifyAwsError(new CredentialsUnavailableError(new CredentialsStalledError(10_000)), context);
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

describe("the error registry", () => {
  const timeout = Object.assign(new Error("requestTimeout passed"), { name: "TimeoutError" });
  const chainError = new Error("Could not load credentials from any providers");
  const raised: ConsumerError[] = [
    new RequestStalledError(timeout, 5_000),
    new ReceiveThrottledError({ name: "ThrottlingException", message: "Rate exceeded" }),
    new CredentialsStalledError(10_000),
    new CredentialsUnavailableError(chainError),
    new HandlerTimeoutError(60),
    new HealthPortInUseError(8080, "127.0.0.1", Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" })),
    new BatchAnswerInvalidError('itemIdentifier "m-9" is not a message of this batch', "request-1"),
    new ClockSkewError("date-header", 7_200_000),
  ];

  test("each code of ERROR_CODES is raised by exactly one class, named after it, with a context", () => {
    assert.deepEqual(raised.map((e) => e.code).sort(), Object.keys(ERROR_CODES).sort());
    for (const error of raised) {
      assert.ok(error instanceof ConsumerError && error instanceof Error, error.code);
      assert.match(error.code, /^[A-Z][a-zA-Z]+$/, `${error.code}: one code style, PascalCase as AWS writes its codes`);
      assert.equal(error.name, `${error.code}Error`);
      assert.equal(typeof error.context, "object");
    }
  });

  test("the SDK retries neither a stall nor a throttled FIFO receive: the error they wrap is context, not cause", () => {
    const [stalled, throttled] = raised;
    assert.equal(stalled!.cause, undefined);
    assert.equal(stalled!.context.timeout, timeout);
    assert.equal(throttled!.cause, undefined);
    assert.equal(new CredentialsUnavailableError(chainError).cause, chainError);
  });

  test("every kind has a hint for any error: its last row has no condition, and no row comes after it", () => {
    for (const kind of Object.keys(AWS_ERROR_KINDS)) {
      const rows = HINTS.filter((row) => row.kind === kind);
      assert.ok(rows.length > 0, `${kind}: no hint`);
      assert.equal(rows.at(-1)!.when, undefined, `${kind}: no catch-all hint`);
      assert.deepEqual(
        rows.slice(0, -1).filter((row) => row.when === undefined),
        [],
        `${kind}: a catch-all row before others makes them unreachable`,
      );
    }
  });
});

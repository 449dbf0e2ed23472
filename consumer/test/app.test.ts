import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { summarizeCredentials } from "../src/app";

const context = {
  roleArn: "arn:aws:iam::123456789012:role/consumer",
  tokenFile: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
};

describe("the start-up log's credential summary", () => {
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

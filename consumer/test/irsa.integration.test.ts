import { afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { buildBundle, probe, spawnConsumer, type ConsumerProcess } from "./helpers/consumer-process";
import { StsStandIn } from "./helpers/sts-stand-in";
import { startTestBed, type TestBed } from "./helpers/test-bed";

const ROLE_ARN = "arn:aws:iam::123456789012:role/sqs-eks-consumer-dev";

describe("IRSA: credentials from a projected web identity token", () => {
  let bed: TestBed;
  let bundle: string;
  let sts: StsStandIn;
  let tokenFile: string;
  let consumer: ConsumerProcess | undefined;

  before(() => (bundle = buildBundle()));
  beforeEach(async () => {
    bed = await startTestBed();
    tokenFile = join(mkdtempSync(join(tmpdir(), "irsa-")), "token");
    writeFileSync(tokenFile, "token-1");
    // 303 s: the SDK refreshes credentials 5 minutes before they expire, so these last about 3 s.
    sts = new StsStandIn({ roleArn: ROLE_ARN, tokenFile, lifetimeSeconds: 303 });
    await sts.start();
  });
  afterEach(async () => {
    if (consumer) {
      consumer.child.kill("SIGTERM");
      assert.equal((await consumer.exited).code, 0);
      consumer = undefined;
    }
    await sts.stop();
    await bed.close();
  });

  /** The environment the EKS pod identity webhook gives a pod, and no static keys. */
  function irsaEnv(overrides: Record<string, string> = {}): Record<string, string> {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...env } = bed.env;
    return {
      ...env,
      AWS_ROLE_ARN: ROLE_ARN,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_STS_REGIONAL_ENDPOINTS: "regional",
      AWS_ENDPOINT_URL_STS: sts.endpoint,
      ...overrides,
    };
  }

  test("keeps consuming across credential refreshes, re-reads a rotated token, signs with each new key", async () => {
    consumer = spawnConsumer(bundle, irsaEnv());
    const credentials = await consumer.waitFor((l) => l.event === "credentials", 10_000, "the credentials line");
    assert.equal(credentials.source, "web identity token (IRSA)");
    assert.equal(credentials.roleArn, ROLE_ARN);
    assert.ok(!JSON.stringify(consumer.lines).includes("ASIASTANDIN"), "an access key id was logged");

    const sent: string[] = [];
    for (let i = 0; i < 24; i++) {
      if (i === 10) writeFileSync(tokenFile, "token-2");
      sent.push(`irsa ${i}`);
      await sendMessages(bed.sqs, bed.queue.queueUrl, [`irsa ${i}`]);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await eventually(
      () => sent.every((body) => consumer!.lines.some((l) => l.body === body)),
      10_000,
      "every message handled",
    );
    await eventually(
      async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
      5_000,
      "every delete",
    );

    assert.deepEqual(sts.rejected, []);
    assert.ok(sts.issued.length >= 3, `only ${sts.issued.length} credential sets issued: no refresh happened`);
    assert.deepEqual(
      [...new Set(sts.issued.map((i) => i.token))],
      ["token-1", "token-2"],
      "the rotated token file was not re-read",
    );
    const keys = bed.requests
      .map((r) => r.accessKeyId)
      .filter((k): k is string => k?.startsWith("ASIASTANDIN") ?? false);
    const order = keys.map((k) => Number(k.slice("ASIASTANDIN".length)));
    assert.ok(new Set(order).size >= 3, `SQS saw ${new Set(order).size} keys; expected one per refresh`);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      "a request was signed with an older key after a newer one was in use",
    );
    assert.equal((await probe(await consumer.healthPort(), "/readyz")).status, 200);
  });

  test("STS unreachable: the consumer stays up and not ready, then recovers on its own", async () => {
    sts.available = false;
    consumer = spawnConsumer(bundle, irsaEnv());
    const port = await consumer.healthPort();
    const warning = await consumer.waitFor((l) => l.event === "aws-error", 10_000, "the error");
    assert.equal(warning.kind, "credentials");
    assert.match(String(warning.hint), /Could not reach STS/);
    assert.equal((await probe(port, "/readyz")).status, 503);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(consumer.child.exitCode, null, "the consumer exited while STS was down");
    assert.equal((await probe(port, "/livez")).status, 200);

    sts.available = true;
    await eventually(async () => (await probe(port, "/readyz")).status === 200, 30_000, "ready after STS returns");
    await sendMessages(bed.sqs, bed.queue.queueUrl, ["after STS"]);
    await consumer.waitFor((l) => l.body === "after STS", 10_000, "the message");
  });

  test("a role whose trust policy rejects this pod: not ready, with a hint about the trust policy", async () => {
    consumer = spawnConsumer(bundle, irsaEnv({ AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/someone-else" }));
    const warning = await consumer.waitFor((l) => l.event === "aws-error", 10_000, "the error");
    assert.equal(warning.kind, "credentials");
    assert.match(String(warning.hint), /trust policy must name this cluster's OIDC provider/);
    assert.match(String(warning.hint), /role\/someone-else/);
    assert.equal((await probe(await consumer.healthPort(), "/readyz")).status, 503);
  });

  test("no credentials at all (no IRSA annotation): a clear hint, not ready, no crash", async () => {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...env } = bed.env;
    consumer = spawnConsumer(bundle, env);
    const warning = await consumer.waitFor((l) => l.event === "aws-error", 15_000, "the error");
    assert.equal(warning.kind, "credentials");
    assert.match(String(warning.hint), /No AWS credentials found.*eks\.amazonaws\.com\/role-arn/);
    assert.equal((await probe(await consumer.healthPort(), "/readyz")).status, 503);
    assert.equal(consumer.child.exitCode, null);
  });
});

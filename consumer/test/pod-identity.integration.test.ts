import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { buildBundle, probe, spawnConsumer, type ConsumerProcess } from "./helpers/consumer-process";
import { PodIdentityAgentStandIn } from "./helpers/pod-identity-agent-stand-in";
import { SilentServer } from "./helpers/silent-server";
import { StsStandIn } from "./helpers/sts-stand-in";
import { startTestBed, type TestBed } from "./helpers/test-bed";

const ROLE_ARN = "arn:aws:iam::123456789012:role/sqs-eks-consumer-dev-consumer";

/** The bundle the image ships, built once for this file. */
let bundle: string;
before(() => (bundle = buildBundle()));

describe("EKS Pod Identity: credentials from the container endpoint, through the SDK's own provider", () => {
  let bed: TestBed;
  let agent: PodIdentityAgentStandIn;
  let tokenFile: string;
  let consumer: ConsumerProcess | undefined;

  beforeEach(async () => {
    bed = await startTestBed();
    tokenFile = join(mkdtempSync(join(tmpdir(), "pod-identity-")), "eks-pod-identity-token");
    writeFileSync(tokenFile, "pod-token-1");
    // 303 s: the SDK refreshes credentials 5 minutes before they expire, so these last about 3 s.
    agent = new PodIdentityAgentStandIn({ tokenFile, lifetimeSeconds: 303 });
    await agent.start();
  });
  afterEach(async () => {
    if (consumer) {
      consumer.child.kill("SIGTERM");
      assert.equal((await consumer.exited).code, 0);
      consumer = undefined;
    }
    await agent.stop();
    await bed.close();
  });

  /** What EKS injects for an association (EKS user guide, "pod-id-how-it-works"), pointed at the stand-in; no static keys. */
  function podIdentityEnv(overrides: Record<string, string> = {}): Record<string, string> {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...env } = bed.env;
    return {
      ...env,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.fullUri,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      AWS_EC2_METADATA_DISABLED: "true",
      ...overrides,
    };
  }

  test("keeps consuming across credential refreshes, re-reads a rotated token, logs the source but never the token", async () => {
    consumer = spawnConsumer(bundle, podIdentityEnv());
    const credentials = await consumer.waitFor((l) => l.event === "credentials", 10_000, "the credentials line");
    assert.match(String(credentials.source), /container credentials endpoint/);
    assert.equal(credentials.endpoint, agent.fullUri);
    assert.equal(credentials.tokenFile, tokenFile);
    const logged = JSON.stringify(consumer.lines);
    assert.ok(
      !logged.includes("pod-token-1") && !logged.includes("ASIAPODID"),
      "a token or an access key id was logged",
    );

    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      if (i === 8) writeFileSync(tokenFile, "pod-token-2");
      sent.push(`pod identity ${i}`);
      await sendMessages(bed.sqs, bed.queue.queueUrl, [`pod identity ${i}`]);
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

    assert.deepEqual(agent.rejected, []);
    assert.ok(agent.issued.length >= 3, `only ${agent.issued.length} credential sets issued: no refresh happened`);
    assert.deepEqual(
      [...new Set(agent.issued.map((i) => i.token))],
      ["pod-token-1", "pod-token-2"],
      "the rotated token file was not re-read",
    );
    const keys = bed.requests.map((r) => r.accessKeyId).filter((k): k is string => k?.startsWith("ASIAPODID") ?? false);
    assert.ok(new Set(keys).size >= 3, `SQS saw ${new Set(keys).size} keys; expected one per refresh`);
    assert.equal((await probe(await consumer.healthPort(), "/readyz")).status, 200);
  });

  test("agent unreachable: up and not ready with a hint naming the agent, then recovers on its own", async () => {
    agent.available = false;
    consumer = spawnConsumer(bundle, podIdentityEnv());
    const port = await consumer.healthPort();
    const warning = await consumer.waitFor((l) => l.event === "aws-error", 20_000, "the error");
    assert.equal(warning.kind, "credentials");
    assert.match(String(warning.hint), /EKS Pod Identity Agent at http:\/\/127\.0\.0\.1:\d+\/v1\/credentials/);
    assert.match(String(warning.hint), /eks-pod-identity-agent/);
    assert.equal((await probe(port, "/readyz")).status, 503);
    assert.equal(consumer.child.exitCode, null, "the consumer exited while the agent was down");

    agent.available = true;
    await eventually(
      async () => (await probe(port, "/readyz")).status === 200,
      45_000,
      "ready after the agent returns",
    );
    await sendMessages(bed.sqs, bed.queue.queueUrl, ["after the agent"]);
    await consumer.waitFor((l) => l.body === "after the agent", 10_000, "the message");
  });

  test("no association: not ready, with a hint about the association", async () => {
    agent.association = false;
    consumer = spawnConsumer(bundle, podIdentityEnv());
    const warning = await consumer.waitFor((l) => l.event === "aws-error", 20_000, "the error");
    assert.equal(warning.kind, "credentials");
    // Through the default chain the agent's 400 arrives as "Could not load credentials from any providers",
    // so the hint names both causes; it must name the association.
    assert.match(
      String(warning.hint),
      /Pod Identity association must exist for this pod's namespace and service account/,
    );
    assert.equal((await probe(await consumer.healthPort(), "/readyz")).status, 503);
    assert.ok(agent.rejected.some((r) => r.startsWith("ResourceNotFoundException")));
  });

  // EKS's webhook injects only the container variables when a service account has an association
  // (docs/DEPLOY.md, "Switching a stack between modes"); a pod given both sets some other way gets IRSA.
  test("with both the IRSA and the container variables, web identity wins and the agent is never asked", async () => {
    const irsaToken = join(mkdtempSync(join(tmpdir(), "irsa-")), "token");
    writeFileSync(irsaToken, "irsa-token");
    const sts = new StsStandIn({ roleArn: ROLE_ARN, tokenFile: irsaToken, lifetimeSeconds: 3600 });
    await sts.start();
    try {
      consumer = spawnConsumer(
        bundle,
        podIdentityEnv({
          AWS_ROLE_ARN: ROLE_ARN,
          AWS_WEB_IDENTITY_TOKEN_FILE: irsaToken,
          AWS_ENDPOINT_URL_STS: sts.endpoint,
        }),
      );
      const credentials = await consumer.waitFor((l) => l.event === "credentials", 10_000, "the credentials line");
      assert.equal(credentials.source, "web identity token (IRSA)");
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["mid-switch"]);
      await consumer.waitFor((l) => l.body === "mid-switch", 10_000, "the message");
      assert.ok(sts.issued.length >= 1);
      assert.equal(
        agent.issued.length + agent.rejected.length,
        0,
        "the agent was asked although web identity was configured",
      );
    } finally {
      consumer?.child.kill("SIGTERM");
      await consumer?.exited;
      consumer = undefined;
      await sts.stop();
    }
  });
});

// Every credential fetch has a deadline, and the hints name the agent and the association: an agent
// that accepts and never answers, a token file that is not there, an agent that answers nonsense. The
// consumer stays up, not ready, says why, and stops within its shutdown budget.
describe("EKS Pod Identity: an agent or token in trouble", () => {
  let bed: TestBed;
  let consumer: ConsumerProcess | undefined;
  let tokenFile: string;
  before(async () => {
    bed = await startTestBed();
    tokenFile = join(mkdtempSync(join(tmpdir(), "pod-identity-trouble-")), "eks-pod-identity-token");
    writeFileSync(tokenFile, "pod-token");
  });
  after(async () => bed.close());
  afterEach(async () => {
    if (consumer === undefined) return;
    consumer.child.kill("SIGTERM");
    const { code } = await consumer.exited;
    consumer = undefined;
    assert.equal(code, 0, "SIGTERM while credentials fail: a graceful exit");
  });

  function env(fullUri: string, overrides: Record<string, string> = {}): Record<string, string> {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...rest } = bed.env;
    return {
      ...rest,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: fullUri,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      SHUTDOWN_BUDGET_SECONDS: "5",
      ...overrides,
    };
  }

  async function notReadyWithCredentialsError(): Promise<Record<string, unknown>> {
    const port = await consumer!.healthPort();
    const warning = await consumer!.waitFor(
      (l) => l.event === "aws-error" || (l.event === "credentials" && l.level === "warn"),
      60_000,
      "a credentials error",
    );
    assert.equal((await probe(port, "/readyz")).status, 503);
    assert.equal(consumer!.child.exitCode, null, "the consumer exited");
    return warning;
  }

  test("an agent that accepts the connection and never answers: the fetch ends by its deadline, not ready, still up, and SIGTERM exits 0 within the budget", async () => {
    const silent = new SilentServer();
    await silent.start();
    try {
      consumer = spawnConsumer(bundle, env(`${silent.endpoint}/v1/credentials`));
      const warning = await notReadyWithCredentialsError();
      assert.ok(silent.accepted > 0, "the agent was asked");
      assert.equal(warning.kind, "credentials");
      assert.equal(warning.code, "CredentialsStalled");
      assert.match(String(warning.hint), /did not answer within 10 s \(STS, the container credentials endpoint/);
      const signalled = Date.now();
      consumer.child.kill("SIGTERM");
      const exit = await consumer.exited;
      consumer = undefined;
      assert.equal(exit.code, 0);
      // Budget 5 s; the slack is for a loaded 2-core machine.
      assert.ok(exit.at - signalled <= 6_500, `exit took ${exit.at - signalled} ms, budget 5000`);
    } finally {
      consumer?.child.kill("SIGTERM");
      await consumer?.exited;
      consumer = undefined;
      await silent.stop();
    }
  });

  test("the token file is missing: not ready, and the log says so", async () => {
    const server: Server = createServer((_req, res) => res.end("{}"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      consumer = spawnConsumer(
        bundle,
        env(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/credentials`, {
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(tmpdir(), "no-such-dir", "token"),
        }),
      );
      const warning = await notReadyWithCredentialsError();
      assert.match(JSON.stringify(warning), /token|ENOENT|no-such-dir/i);
    } finally {
      server.close();
    }
  });

  for (const [what, body] of [
    ["not JSON", "<html>proxy error</html>"],
    ["JSON without keys", '{"Code":"Success"}'],
  ] as const) {
    test(`an agent that answers 200 with ${what}: not ready, still up`, async () => {
      const server: Server = createServer((_req, res) =>
        res.writeHead(200, { "content-type": "application/json" }).end(body),
      );
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        consumer = spawnConsumer(
          bundle,
          env(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/credentials`),
        );
        await notReadyWithCredentialsError();
      } finally {
        server.close();
      }
    });
  }
});

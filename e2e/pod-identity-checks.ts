// What the Pod Identity run proves about the rendered pod, as e2e/consumer-checks.ts does for IRSA:
// with the association's changes it consumes with credentials from the agent (stand-in), answers its
// probes and stops within its grace period; without them it says it has no credentials and stays up,
// not ready.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { TestContext } from "node:test";
import { EMULATOR_CREDENTIALS } from "../consumer/local/emulator";
import { eventually, queueCounts, sendMessages } from "../consumer/test/helpers/queue";
import { probe, STAYS_UP_MS } from "./consumer-checks";
import type { LaunchedConsumer } from "./launched-consumer";
import type { PodIdentityBed } from "./pod-identity-bed";
import type { PodRun } from "./rendered-pod-bed";

/** The prefix of every access key the agent stand-in issues. */
const ISSUED_KEY_PREFIX = "ASIAPODID";

/**
 * With the association: credentials come from the agent stand-in, which saw the token file's content as
 * Authorization and nothing else; 'Hello world!' is logged and deleted with those credentials; both
 * probes answer 200; SIGTERM ends it with exit 0 within terminationGracePeriodSeconds.
 */
export async function expectConsumesWithPodIdentity(t: TestContext, bed: PodIdentityBed, run: PodRun, consumer: LaunchedConsumer): Promise<void> {
  const { launch } = run;
  const credentials = await consumer.waitForLog((line) => line.event === "credentials", 20_000, "the credentials line");
  assert.match(String(credentials.source), /^container credentials endpoint/, `the ${consumer.kind} did not use the container credentials endpoint`);
  await eventually(async () => (await probe(launch.readiness, "readiness")) === 200, 15_000, "/readyz to answer 200");
  assert.equal(await probe(launch.liveness, "liveness"), 200);

  const [messageId] = await sendMessages(bed.sqs, bed.queueUrl, ["Hello world!"]);
  const handled = await consumer.waitForLog((line) => line.event === "message" && line.messageId === messageId, 15_000, "the 'Hello world!' log line");
  assert.equal(handled.body, "Hello world!");
  await eventually(async () => {
    const counts = await queueCounts(bed.sqs, bed.queueUrl);
    return counts.visible === 0 && counts.inFlight === 0;
  }, 10_000, "the message to be deleted");

  assert.deepEqual(bed.agent.rejected, [], "the agent stand-in rejected a call");
  assert.ok(bed.agent.issued.length >= 1, "the agent stand-in issued no credentials");
  const token = readFileSync(bed.tokenFile, "utf8").trim();
  for (const issue of bed.agent.issued) assert.equal(issue.token, token, "the consumer presented something other than the projected token");
  const consumerKeys = new Set(bed.requests.map((request) => request.accessKeyId).filter((key) => key !== EMULATOR_CREDENTIALS.accessKeyId));
  assert.ok(consumerKeys.size > 0, "the consumer sent nothing to SQS");
  for (const key of consumerKeys) assert.ok(key?.startsWith(ISSUED_KEY_PREFIX), `an SQS request was signed with ${key}, not with the agent's credentials`);
  const deletes = bed.requests.filter((request) => request.operation.startsWith("DeleteMessage") && request.accessKeyId?.startsWith(ISSUED_KEY_PREFIX));
  assert.ok(deletes.length > 0, "no delete signed with the agent's credentials");
  const logText = JSON.stringify(consumer.logs());
  assert.ok(!logText.includes(ISSUED_KEY_PREFIX), "an access key id was logged");
  assert.ok(!logText.includes(token), "the Pod Identity token was logged");

  const grace = launch.terminationGracePeriodSeconds;
  const stopped = await consumer.stop(grace);
  t.diagnostic(`${consumer.kind}: SIGTERM to exit ${stopped.seconds.toFixed(2)} s (grace ${grace} s)`);
  assert.equal(stopped.exitCode, 0, `the ${consumer.kind} exited ${stopped.exitCode} after SIGTERM`);
  assert.ok(stopped.seconds < grace, `stopped after ${stopped.seconds} s, not within the ${grace} s grace period`);
}

/**
 * Without the association: neither variable set, one credentials warning naming the association as a
 * way out, /readyz 503 while /livez stays 200, still running a few seconds later, the agent never
 * called; exit 0 on SIGTERM.
 */
export async function expectNotReadyWithoutAssociation(bed: PodIdentityBed, run: PodRun, consumer: LaunchedConsumer): Promise<void> {
  const { launch } = run;
  const agentCallsBefore = bed.agent.issued.length + bed.agent.rejected.length;
  for (const name of ["AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) {
    assert.equal(launch.env[name], undefined, `${name} is set without an association`);
  }
  const warning = await consumer.waitForLog((line) => line.event === "aws-error", 20_000, "the aws-error line");
  assert.equal(warning.kind, "credentials");
  assert.match(String(warning.hint), /No AWS credentials found.*EKS Pod Identity association/);
  assert.equal(await probe(launch.readiness, "readiness"), 503);
  assert.equal(await probe(launch.liveness, "liveness"), 200);
  await new Promise((resolve) => setTimeout(resolve, STAYS_UP_MS));
  assert.ok(consumer.isRunning(), `the ${consumer.kind} exited without credentials`);
  assert.equal(await probe(launch.readiness, "readiness"), 503);
  assert.equal(bed.agent.issued.length + bed.agent.rejected.length, agentCallsBefore, "the consumer called the agent without an association");

  const stopped = await consumer.stop(launch.terminationGracePeriodSeconds);
  assert.equal(stopped.exitCode, 0);
}

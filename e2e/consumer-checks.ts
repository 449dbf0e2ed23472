// The two things the end-to-end run proves about the rendered pod, checked the same way whether the
// consumer runs in a container or as a plain process: with the webhook's changes it consumes with web
// identity credentials, answers its probes and stops within its grace period; without them it says
// clearly that it has no credentials and stays up, not ready.
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { EMULATOR_CREDENTIALS } from "../consumer/local/emulator";
import { eventually, queueCounts, sendMessages } from "../consumer/test/helpers/queue";
import type { LaunchedConsumer } from "./launched-consumer";
import type { ProbeTarget } from "./pod-launch";
import type { PodRun, RenderedPodBed } from "./rendered-pod-bed";
import { decodeToken, trustPolicyRejections } from "./service-account-token";

/** The prefix of every access key the STS stand-in issues. */
const ISSUED_KEY_PREFIX = "ASIASTANDIN";
/** How long the negative case watches the consumer stay up without credentials. */
export const STAYS_UP_MS = 3_000;

/** GETs a probe's path on its port, as the kubelet's HTTP probe does; status 0 when nothing answers. */
export async function probe(target: ProbeTarget | undefined, what: string): Promise<number> {
  assert.ok(target !== undefined, `the Deployment has no ${what} probe`);
  try {
    const response = await fetch(`http://127.0.0.1:${target.port}${target.path}`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/**
 * With IRSA: credentials come from the projected token through the STS stand-in, 'Hello world!' is
 * logged and deleted with those credentials, both probes answer 200, and SIGTERM ends it with exit 0
 * within the pod's terminationGracePeriodSeconds.
 */
export async function expectConsumesWithWebIdentity(t: TestContext, bed: RenderedPodBed, run: PodRun, consumer: LaunchedConsumer): Promise<void> {
  const { launch } = run;
  const credentials = await consumer.waitForLog((line) => line.event === "credentials", 20_000, "the credentials line");
  assert.equal(credentials.source, "web identity token (IRSA)", `the ${consumer.kind} did not use the web identity token`);
  assert.equal(credentials.roleArn, launch.env.AWS_ROLE_ARN);
  await eventually(async () => (await probe(launch.readiness, "readiness")) === 200, 15_000, "/readyz to answer 200");
  assert.equal(await probe(launch.liveness, "liveness"), 200);

  const [messageId] = await sendMessages(bed.sqs, bed.queueUrl, ["Hello world!"]);
  const handled = await consumer.waitForLog((line) => line.event === "message" && line.messageId === messageId, 15_000, "the 'Hello world!' log line");
  assert.equal(handled.body, "Hello world!");
  await eventually(async () => {
    const counts = await queueCounts(bed.sqs, bed.queueUrl);
    return counts.visible === 0 && counts.inFlight === 0;
  }, 10_000, "the message to be deleted");

  assert.deepEqual(bed.sts.rejected, [], "the STS stand-in rejected a call");
  assert.ok(bed.sts.issued.length >= 1, "the STS stand-in issued no credentials");
  const presented = decodeToken(bed.sts.issued[0]!.token);
  assert.deepEqual(trustPolicyRejections(bed.workload.trustPolicy, presented), [], "the rendered role's trust policy rejects the pod's token");
  const consumerKeys = new Set(bed.requests.map((request) => request.accessKeyId).filter((key) => key !== EMULATOR_CREDENTIALS.accessKeyId));
  assert.ok(consumerKeys.size > 0, "the consumer sent nothing to SQS");
  for (const key of consumerKeys) assert.ok(key?.startsWith(ISSUED_KEY_PREFIX), `an SQS request was signed with ${key}, not with issued credentials`);
  const deletes = bed.requests.filter((request) => request.operation.startsWith("DeleteMessage") && request.accessKeyId?.startsWith(ISSUED_KEY_PREFIX));
  assert.ok(deletes.length > 0, "no delete signed with the web identity credentials");
  const logText = JSON.stringify(consumer.logs());
  assert.ok(!logText.includes(ISSUED_KEY_PREFIX), "an access key id was logged");
  assert.ok(!logText.includes(bed.sts.issued[0]!.token), "the web identity token was logged");

  const grace = launch.terminationGracePeriodSeconds;
  const stopped = await consumer.stop(grace);
  t.diagnostic(`${consumer.kind}: SIGTERM to exit ${stopped.seconds.toFixed(2)} s (grace ${grace} s)`);
  assert.equal(stopped.exitCode, 0, `the ${consumer.kind} exited ${stopped.exitCode} after SIGTERM`);
  assert.ok(stopped.seconds < grace, `stopped after ${stopped.seconds} s, not within the ${grace} s grace period`);
  assert.ok(consumer.logs().some((line) => line.event === "stopped"), "no 'stopped' line before exit");
}

/**
 * Without IRSA: one clear warning that names the missing annotation, /readyz 503 while /livez stays
 * 200, and still running a few seconds later (the kubelet would not restart it); exit 0 on SIGTERM.
 */
export async function expectNotReadyWithoutCredentials(bed: RenderedPodBed, run: PodRun, consumer: LaunchedConsumer): Promise<void> {
  const { launch } = run;
  const stsCallsBefore = bed.sts.issued.length + bed.sts.rejected.length;
  for (const name of ["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"]) assert.equal(launch.env[name], undefined, `${name} is set without the annotation`);
  const warning = await consumer.waitForLog((line) => line.event === "aws-error", 20_000, "the aws-error line");
  assert.equal(warning.kind, "credentials");
  assert.match(String(warning.hint), /No AWS credentials found.*eks\.amazonaws\.com\/role-arn/);
  assert.equal(await probe(launch.readiness, "readiness"), 503);
  assert.equal(await probe(launch.liveness, "liveness"), 200);
  await new Promise((resolve) => setTimeout(resolve, STAYS_UP_MS));
  assert.ok(consumer.isRunning(), `the ${consumer.kind} exited without credentials`);
  assert.equal(await probe(launch.readiness, "readiness"), 503);
  assert.equal(await probe(launch.liveness, "liveness"), 200);
  assert.equal(bed.sts.issued.length + bed.sts.rejected.length, stsCallsBefore, "the consumer called STS without a token to present");

  const stopped = await consumer.stop(launch.terminationGracePeriodSeconds);
  assert.equal(stopped.exitCode, 0);
}

// The two things the end-to-end run proves about the rendered pod, checked the same way whether the
// consumer runs in a container or as a plain process, and in either identity mode (the bed's mode
// supplies what differs): with admission's changes for its identity it consumes with the credentials the
// mode's stand-in issues for the projected token, answers its probes and stops within its grace period;
// without them it says clearly that it has no credentials and stays up, not ready.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { TestContext } from "node:test";
import { EMULATOR_CREDENTIALS } from "../consumer/local/emulator";
import { eventually, queueCounts, sendMessages } from "../consumer/test/helpers/queue";
import { otherModesEnv } from "./identity-modes";
import type { LaunchedConsumer } from "./launched-consumer";
import type { ProbeTarget } from "./pod-launch";
import type { PodRun, RenderedPodBed } from "./rendered-pod-bed";

/** How long the negative case watches the consumer stay up without credentials. */
export const STAYS_UP_MS = 3_000;

/** GETs a probe's path on its port, as the kubelet's HTTP probe does; status 0 when nothing answers. */
export async function probe(target: ProbeTarget | undefined, what: string): Promise<number> {
  assert.ok(target !== undefined, `the Deployment has no ${what} probe`);
  try {
    const response = await fetch(`http://127.0.0.1:${target.port}${target.path}`, {
      signal: AbortSignal.timeout(2_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/**
 * With the mode's grant: the mode's variables set and no other mode's; the credentials line names the
 * mode's source; the stand-in rejected nothing, and every token presented to it is the projected file's
 * content and passes the mode's own check of it (the role's trust policy for IRSA); 'Hello world!' is
 * logged and deleted, and every SQS request signed, with the issued credentials; both probes answer 200;
 * neither a key nor the token is logged; SIGTERM ends it with exit 0 within the pod's
 * terminationGracePeriodSeconds, after a `stopped` line.
 */
export async function expectConsumesWithIdentity(
  t: TestContext,
  bed: RenderedPodBed,
  run: PodRun,
  consumer: LaunchedConsumer,
): Promise<void> {
  const { launch } = run;
  const { mode, issuer } = bed;
  for (const name of mode.grantedEnv)
    assert.ok(launch.env[name] !== undefined, `${name} is not set with ${mode.grant}`);
  for (const name of otherModesEnv(mode))
    assert.equal(launch.env[name], undefined, `${name} is set in ${mode.name} mode`);
  const credentials = await consumer.waitForLog((line) => line.event === "credentials", 20_000, "the credentials line");
  mode.expectCredentialsLine(credentials, launch);
  await eventually(async () => (await probe(launch.readiness, "readiness")) === 200, 15_000, "/readyz to answer 200");
  assert.equal(await probe(launch.liveness, "liveness"), 200);

  const [messageId] = await sendMessages(bed.sqs, bed.queueUrl, ["Hello world!"]);
  const handled = await consumer.waitForLog(
    (line) => line.event === "message" && line.messageId === messageId,
    15_000,
    "the 'Hello world!' log line",
  );
  assert.equal(handled.body, "Hello world!");
  await eventually(
    async () => {
      const counts = await queueCounts(bed.sqs, bed.queueUrl);
      return counts.visible === 0 && counts.inFlight === 0;
    },
    10_000,
    "the message to be deleted",
  );

  assert.deepEqual(issuer.rejected, [], "the credential stand-in rejected a call");
  assert.ok(issuer.issued.length >= 1, "the credential stand-in issued no credentials");
  const token = readFileSync(bed.tokenFile, "utf8").trim();
  for (const issue of issuer.issued)
    assert.equal(issue.token, token, "the consumer presented something other than the projected token");
  mode.expectPresentedToken(bed.workload, token);
  const consumerKeys = new Set(
    bed.requests.map((request) => request.accessKeyId).filter((key) => key !== EMULATOR_CREDENTIALS.accessKeyId),
  );
  assert.ok(consumerKeys.size > 0, "the consumer sent nothing to SQS");
  for (const key of consumerKeys)
    assert.ok(
      key?.startsWith(mode.issuedKeyPrefix),
      `an SQS request was signed with ${key}, not with issued credentials`,
    );
  const deletes = bed.requests.filter(
    (request) => request.operation.startsWith("DeleteMessage") && request.accessKeyId?.startsWith(mode.issuedKeyPrefix),
  );
  assert.ok(deletes.length > 0, `no delete signed with the credentials ${mode.grant} gave`);
  const logText = JSON.stringify(consumer.logs());
  assert.ok(!logText.includes(mode.issuedKeyPrefix), "an access key id was logged");
  assert.ok(!logText.includes(token), "the projected token was logged");

  const grace = launch.terminationGracePeriodSeconds;
  const stopped = await consumer.stop(grace);
  t.diagnostic(`${consumer.kind}: SIGTERM to exit ${stopped.seconds.toFixed(2)} s (grace ${grace} s)`);
  assert.equal(stopped.exitCode, 0, `the ${consumer.kind} exited ${stopped.exitCode} after SIGTERM`);
  assert.ok(stopped.seconds < grace, `stopped after ${stopped.seconds} s, not within the ${grace} s grace period`);
  assert.ok(
    consumer.logs().some((line) => line.event === "stopped"),
    "no 'stopped' line before exit",
  );
}

/**
 * Without the grant: none of the mode's variables set, one credentials warning whose hint names the
 * missing grant, /readyz 503 while /livez stays 200, both still so a few seconds later with the consumer
 * still running (the kubelet would not restart it), the stand-in never called; exit 0 on SIGTERM.
 */
export async function expectNotReadyWithoutIdentity(
  bed: RenderedPodBed,
  run: PodRun,
  consumer: LaunchedConsumer,
): Promise<void> {
  const { launch } = run;
  const { mode, issuer } = bed;
  const callsBefore = issuer.issued.length + issuer.rejected.length;
  for (const name of mode.grantedEnv) assert.equal(launch.env[name], undefined, `${name} is set without ${mode.grant}`);
  const warning = await consumer.waitForLog((line) => line.event === "aws-error", 20_000, "the aws-error line");
  assert.equal(warning.kind, "credentials");
  assert.match(String(warning.hint), mode.missingHint);
  assert.equal(await probe(launch.readiness, "readiness"), 503);
  assert.equal(await probe(launch.liveness, "liveness"), 200);
  await new Promise((resolve) => setTimeout(resolve, STAYS_UP_MS));
  assert.ok(consumer.isRunning(), `the ${consumer.kind} exited without credentials`);
  assert.equal(await probe(launch.readiness, "readiness"), 503);
  assert.equal(await probe(launch.liveness, "liveness"), 200);
  assert.equal(
    issuer.issued.length + issuer.rejected.length,
    callsBefore,
    `the consumer called the credential stand-in without ${mode.grant}`,
  );

  const stopped = await consumer.stop(launch.terminationGracePeriodSeconds);
  assert.equal(stopped.exitCode, 0);
}

/**
 * The Pod Identity variant of test/rendered-pod-process.test.ts: the dev stack rendered with identity
 * `pod-identity`, with what EKS applies for its association (e2e/pod-identity-association.ts), started as
 * the consumer's bundle in a plain process against a loopback stand-in for the EKS Pod Identity Agent.
 * Proves the mapping from the association's env and token to the SDK's container provider; not the
 * agent, EKS Auth, the real webhook, nor anything a container enforces.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, it } from "node:test";
import { buildBundle } from "../consumer/test/helpers/consumer-process";
import type { LaunchedConsumer } from "../e2e/launched-consumer";
import { expectConsumesWithPodIdentity, expectNotReadyWithoutAssociation } from "../e2e/pod-identity-checks";
import { startPodIdentityBed, type PodIdentityBed } from "../e2e/pod-identity-bed";
import { toProcessLaunch } from "../e2e/pod-launch";
import { startPodProcess, type StartedPodProcess } from "../e2e/pod-process";
import type { PodRun } from "../e2e/rendered-pod-bed";
import { decodeToken } from "../e2e/service-account-token";

void describe("the rendered dev pod with an EKS Pod Identity association, run as a plain process", () => {
  let bundle: string;
  let bed: PodIdentityBed;
  const started: LaunchedConsumer[] = [];

  before(async () => {
    bundle = buildBundle();
    bed = await startPodIdentityBed("dev");
  });

  // A consumer a failed test left running would call the agent and SQS during the next test.
  afterEach(async () => {
    for (const consumer of started.splice(0)) if (consumer.isRunning()) await consumer.stop(0);
  });
  after(async () => {
    await bed?.close();
  });

  async function start(podRun: PodRun): Promise<StartedPodProcess> {
    const process = await startPodProcess(bundle, podRun);
    started.push(process.consumer);
    return process;
  }

  void it("with the association's env and token: consumes 'Hello world!' with the agent's credentials, probes answer, exits 0 within the grace period", async (t) => {
    const { run, consumer, note } = await start(bed.associated);
    t.diagnostic(note);
    t.diagnostic(`agent: the stand-in's ${bed.agent.fullUri} in place of http://169.254.170.23/v1/credentials; queue: the emulator's ${bed.queueUrl}`);
    const env = toProcessLaunch(run.launch, run.host).env;
    // A process has no mount namespace: the token path points at the file on this machine instead.
    assert.equal(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, bed.tokenFile);
    assert.deepEqual(decodeToken(readFileSync(bed.tokenFile, "utf8")).aud, ["pods.eks.amazonaws.com"]);
    for (const name of ["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"]) assert.equal(env[name], undefined, `${name} is set in pod-identity mode`);
    await expectConsumesWithPodIdentity(t, bed, run, consumer);
  });

  void it("without the association: reports missing credentials, stays up and not ready", async (t) => {
    const { run, consumer, note } = await start(bed.withoutAssociation);
    t.diagnostic(note);
    await expectNotReadyWithoutAssociation(bed, run, consumer);
  });
});

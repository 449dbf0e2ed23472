/**
 * The fast variant of `npm run e2e`, without a container: the dev stack's rendered Deployment,
 * ServiceAccount and Secret, with the EKS webhook's changes, started as the consumer's bundle in a plain
 * process with the pod spec's environment and arguments. Checks the mapping where podman is
 * unavailable; only the container run (e2e/rendered-pod-container.e2e.ts) proves the Dockerfile, the
 * user, the read-only root filesystem, the capabilities and the cgroup limits.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { buildBundle } from "../consumer/test/helpers/consumer-process";
import { expectConsumesWithWebIdentity, expectNotReadyWithoutCredentials } from "../e2e/consumer-checks";
import type { LaunchedConsumer } from "../e2e/launched-consumer";
import { toProcessLaunch } from "../e2e/pod-launch";
import { startPodProcess, type StartedPodProcess } from "../e2e/pod-process";
import { startRenderedPodBed, type PodRun, type RenderedPodBed } from "../e2e/rendered-pod-bed";

void describe("the rendered dev pod, run as a plain process", () => {
  let bundle: string;
  let bed: RenderedPodBed;
  const started: LaunchedConsumer[] = [];

  before(async () => {
    bundle = buildBundle();
    bed = await startRenderedPodBed("dev");
  });

  // A consumer a failed test left running would call STS and SQS during the next test.
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

  void it("with the webhook's IRSA environment: consumes 'Hello world!' with web identity credentials, probes answer, exits 0 within the grace period", async (t) => {
    const { run, consumer, note } = await start(bed.irsa);
    t.diagnostic(note);
    t.diagnostic(`queue: the emulator's ${bed.queueUrl} in place of the rendered ${bed.workload.queue.url}; everything else as rendered`);
    // A process has no mount namespace: the webhook's token path points at the file on this machine instead.
    assert.equal(toProcessLaunch(run.launch, run.host).env.AWS_WEB_IDENTITY_TOKEN_FILE, bed.tokenFile);
    await expectConsumesWithWebIdentity(t, bed, run, consumer);
  });

  void it("without the role annotation: reports missing credentials, stays up and not ready", async (t) => {
    const { run, consumer, note } = await start(bed.withoutIrsa);
    t.diagnostic(note);
    await expectNotReadyWithoutCredentials(bed, run, consumer);
  });
});

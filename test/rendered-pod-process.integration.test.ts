/**
 * The fast variant of `npm run e2e`, without a container, in both identity modes: the dev stack's
 * rendered Deployment, ServiceAccount and Secret, with admission's changes for the mode (the EKS webhook's
 * for IRSA, EKS's for a Pod Identity association), started as the consumer's bundle in a plain process
 * with the pod spec's environment and arguments, against the mode's loopback credential stand-in. Checks
 * the mapping where podman is unavailable; only the container run (e2e/rendered-pod-container.e2e.ts)
 * proves the Dockerfile, the real mount, the user, the read-only root filesystem, the capabilities and
 * the cgroup limits.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, it } from "node:test";
import { buildBundle } from "../consumer/test/helpers/consumer-process";
import { expectConsumesWithIdentity, expectNotReadyWithoutIdentity } from "../e2e/consumer-checks";
import { IDENTITY_MODES } from "../e2e/identity-modes";
import type { LaunchedConsumer } from "../e2e/launched-consumer";
import { toProcessLaunch } from "../e2e/pod-launch";
import { startPodProcess, type StartedPodProcess } from "../e2e/pod-process";
import { startRenderedPodBed, type PodRun, type RenderedPodBed } from "../e2e/rendered-pod-bed";
import { decodeToken } from "../e2e/service-account-token";

let bundle: string | undefined;

for (const mode of IDENTITY_MODES) {
  void describe(`the rendered dev pod with identity ${mode.name}, run as a plain process`, () => {
    let bed: RenderedPodBed;
    const started: LaunchedConsumer[] = [];

    before(async () => {
      bundle ??= buildBundle();
      bed = await startRenderedPodBed("dev", mode);
    });

    // A consumer a failed test left running would call the stand-ins and SQS during the next test.
    afterEach(async () => {
      for (const consumer of started.splice(0)) if (consumer.isRunning()) await consumer.stop(0);
    });
    after(async () => {
      await bed?.close();
    });

    async function start(podRun: PodRun): Promise<StartedPodProcess> {
      const process = await startPodProcess(bundle!, podRun);
      started.push(process.consumer);
      return process;
    }

    void it(`with ${mode.grant}: consumes 'Hello world!' with the issued credentials, probes answer, exits 0 within the grace period`, async (t) => {
      const { run, consumer, note } = await start(bed.granted);
      t.diagnostic(note);
      t.diagnostic(
        `credentials: ${bed.issuerEndpoint}; queue: the emulator's ${bed.queueUrl} in place of the rendered ${bed.workload.queue.url}`,
      );
      // A process has no mount namespace: the token path points at the file on this machine instead.
      assert.equal(run.launch.env[mode.tokenFileEnv], mode.tokenPathInPod);
      assert.equal(toProcessLaunch(run.launch, run.host).env[mode.tokenFileEnv], bed.tokenFile);
      assert.deepEqual(decodeToken(readFileSync(bed.tokenFile, "utf8")).aud, [mode.audience]);
      await expectConsumesWithIdentity(t, bed, run, consumer);
    });

    void it(`without ${mode.grant}: reports missing credentials, stays up and not ready`, async (t) => {
      const { run, consumer, note } = await start(bed.withoutGrant);
      t.diagnostic(note);
      await expectNotReadyWithoutIdentity(bed, run, consumer);
    });
  });
}

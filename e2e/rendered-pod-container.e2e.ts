// `npm run e2e`: the image built from the real consumer/Dockerfile (built once for both runs), started by
// podman the way the dev stack's rendered Deployment starts it, in each identity mode: with what the
// EKS pod identity webhook adds for the ServiceAccount's role annotation (IRSA, credentials from an STS
// stand-in), and with what EKS adds for a Pod Identity association (credentials from a stand-in for the
// node's agent). The projected token is mounted read-only at admission's path inside the container;
// nothing is rewritten but what each mode's bed substitutes to reach its stand-in on loopback.
// Needs root and the stand-in base images (`bash e2e/base-images.sh`, which `npm run e2e` runs first).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { after, afterEach, before, describe, it, type TestContext } from "node:test";
import {
  buildImage,
  imageExists,
  runContainer,
  type BuiltImage,
  type RunContainerOptions,
  type RunningContainer,
} from "./container";
import { readContainerFacts } from "./container-facts";
import { expectConsumesWithIdentity, expectNotReadyWithoutIdentity } from "./consumer-checks";
import { IDENTITY_MODES } from "./identity-modes";
import { containerConsumer, type LaunchedConsumer } from "./launched-consumer";
import { toContainerRun, type PodLaunch } from "./pod-launch";
import { onFreeHealthPort, startRenderedPodBed, type PodRun, type RenderedPodBed } from "./rendered-pod-bed";

const REPO_ROOT = join(__dirname, "..");
const BASE_IMAGES = ["docker.io/library/node:24-bookworm-slim", "gcr.io/distroless/nodejs24-debian12:nonroot"];
const TAG = "localhost/sqs-eks-consumer:e2e";
/** Where the distroless runtime keeps Node (consumer/Dockerfile's ENTRYPOINT). */
const IMAGE_NODE = "/nodejs/bin/node";
const KUBELET_CFS_PERIOD_US = 100_000;
const COMMIT = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();

/** A started consumer container: the run (health port possibly moved), its podman options, the container and its log view. */
interface Started {
  readonly run: PodRun;
  readonly options: RunContainerOptions;
  readonly container: RunningContainer;
  readonly consumer: LaunchedConsumer;
}

let imageBuild: Promise<BuiltImage> | undefined;

/** The consumer image, built on first use and shared by every run in this file. */
function consumerImage(): Promise<BuiltImage> {
  imageBuild ??= (async () => {
    for (const base of BASE_IMAGES) {
      assert.ok(await imageExists(base), `${base} is missing: run 'bash e2e/base-images.sh' as root first`);
    }
    return buildImage({
      dockerfile: join(REPO_ROOT, "consumer", "Dockerfile"),
      context: REPO_ROOT,
      tag: TAG,
      buildArgs: { GIT_COMMIT: COMMIT, BUILD_TIME: new Date().toISOString() },
    });
  })();
  return imageBuild;
}

/**
 * What the container enforces on the consumer, read from inside it: the pod spec's user, no
 * capabilities, no privilege escalation, seccomp filtering, a read-only root filesystem and token
 * mount, the token as the kubelet projects it (owner the pod's user, group root, 0600, readable by the
 * consumer) at admission's path, and the kubelet's cgroup limits.
 */
async function expectRestricted(container: RunningContainer, launch: PodLaunch, tokenFile: string): Promise<void> {
  const mountDir = dirname(tokenFile);
  const facts = await readContainerFacts(container, IMAGE_NODE, tokenFile, [
    "/",
    "/app",
    "/tmp",
    "/home/nonroot",
    mountDir,
  ]);
  const { uid, gid } = launch.user!;
  assert.equal(facts.status.Uid, `${uid}\t${uid}\t${uid}\t${uid}`);
  assert.equal(facts.status.Gid, `${gid}\t${gid}\t${gid}\t${gid}`);
  assert.deepEqual(launch.capDrop, ["ALL"]);
  for (const set of ["CapEff", "CapPrm", "CapBnd"] as const)
    assert.equal(facts.status[set], "0000000000000000", `${set} is not empty`);
  assert.equal(facts.status.NoNewPrivs, "1");
  assert.equal(facts.status.Seccomp, "2", "seccomp filter mode: the runtime's default profile");
  assert.deepEqual(facts.writable, {
    "/": "EROFS",
    "/app": "EROFS",
    "/tmp": "EROFS",
    "/home/nonroot": "EROFS",
    [mountDir]: "EROFS",
  });
  assert.deepEqual(
    facts.token,
    { uid, gid: 0, mode: "600", readable: "ok" },
    "the token is not mounted as the kubelet projects it",
  );
  assert.equal(facts.memoryLimitBytes, launch.resources.memoryLimitBytes);
  assert.equal(facts.cpuPeriodUs, KUBELET_CFS_PERIOD_US);
  assert.equal(facts.cpuQuotaUs, (launch.resources.cpuLimitMillicores! * KUBELET_CFS_PERIOD_US) / 1000);
  const shares = Math.floor((launch.resources.cpuRequestMillicores! * 1024) / 1000);
  if (facts.cpuShares !== null) assert.equal(facts.cpuShares, shares);
  else
    assert.equal(
      facts.cpuWeight,
      1 + Math.floor(((shares - 2) * 9999) / 262_142),
      "cgroup v2 weight from the CPU request",
    );
}

void describe("the consumer image, run as the rendered dev Deployment", () => {
  for (const mode of IDENTITY_MODES) {
    void describe(`with identity ${mode.name}`, () => {
      let bed: RenderedPodBed;
      let image: BuiltImage;
      const containers: RunningContainer[] = [];

      before(async () => {
        [image, bed] = await Promise.all([consumerImage(), startRenderedPodBed("dev", mode)]);
      });

      // A consumer a failed test left running would call the stand-ins and SQS during the next test.
      afterEach(async () => {
        for (const container of containers.splice(0)) await container.remove();
      });
      after(async () => {
        await bed?.close();
      });

      async function start(t: TestContext, podRun: PodRun, name: string): Promise<Started> {
        const run = await onFreeHealthPort(podRun);
        t.diagnostic(run.note);
        const options = toContainerRun(run.launch, { ...run.host, image: image.tag, name });
        const container = await runContainer(options);
        containers.push(container);
        const consumer = containerConsumer(container);
        const banner = await consumer.waitForLog(() => true, 30_000, "the version banner");
        assert.equal(banner.event, "start");
        assert.equal(banner.commit, COMMIT, "the container runs an image of another commit");
        return { run, options, container, consumer };
      }

      void it(`with ${mode.grant}'s environment and token: runs restricted, consumes 'Hello world!' with the issued credentials, exits 0 within the grace period`, async (t) => {
        t.diagnostic(
          `image ${image.tag} built from consumer/Dockerfile in ${image.seconds.toFixed(1)} s (once for both modes)`,
        );
        t.diagnostic(
          `credentials: ${bed.issuerEndpoint}; queue: the emulator's ${bed.queueUrl} in place of the rendered ${bed.workload.queue.url}`,
        );
        const { run, options, container, consumer } = await start(t, bed.granted, `e2e-consumer-${mode.name}`);
        // The container sees admission's path, backed by a real read-only mount: no rewrite as for a process.
        const tokenFile = mode.tokenPathInPod;
        assert.equal(run.launch.env[mode.tokenFileEnv], tokenFile);
        assert.equal(options.env?.[mode.tokenFileEnv], tokenFile);
        assert.deepEqual(options.mounts, [
          { source: dirname(bed.tokenFile), target: dirname(mode.tokenPathInPod), readOnly: true },
        ]);

        await expectRestricted(container, run.launch, tokenFile);
        await expectConsumesWithIdentity(t, bed, run, consumer);
      });

      void it(`without ${mode.grant}: reports missing credentials, stays up and not ready`, async (t) => {
        const { run, consumer } = await start(t, bed.withoutGrant, `e2e-consumer-no-${mode.name}`);
        await expectNotReadyWithoutIdentity(bed, run, consumer);
      });
    });
  }
});

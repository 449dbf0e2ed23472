// `npm run e2e`: the image built from the real consumer/Dockerfile, started by podman the way the dev
// stack's rendered Deployment starts it, with what the EKS pod identity webhook adds for its
// ServiceAccount, consumes the emulator's queue with web identity credentials from an STS stand-in.
// Needs root and the stand-in base images (`bash e2e/base-images.sh`, which `npm run e2e` runs first).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, afterEach, before, describe, it, type TestContext } from "node:test";
import { buildImage, imageExists, runContainer, type BuiltImage, type RunningContainer } from "./container";
import { readContainerFacts } from "./container-facts";
import { expectConsumesWithWebIdentity, expectNotReadyWithoutCredentials } from "./consumer-checks";
import { containerConsumer, type LaunchedConsumer } from "./launched-consumer";
import { toContainerRun } from "./pod-launch";
import { onFreeHealthPort, startRenderedPodBed, type PodRun, type RenderedPodBed } from "./rendered-pod-bed";

const REPO_ROOT = join(__dirname, "..");
const BASE_IMAGES = ["docker.io/library/node:24-bookworm-slim", "gcr.io/distroless/nodejs24-debian12:nonroot"];
const TAG = "localhost/sqs-eks-consumer:e2e";
/** Where the distroless runtime keeps Node (consumer/Dockerfile's ENTRYPOINT). */
const IMAGE_NODE = "/nodejs/bin/node";
const KUBELET_CFS_PERIOD_US = 100_000;

void describe("the consumer image, run as the rendered dev Deployment", () => {
  let bed: RenderedPodBed;
  let image: BuiltImage;
  const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  const containers: RunningContainer[] = [];

  before(async () => {
    for (const base of BASE_IMAGES) {
      assert.ok(await imageExists(base), `${base} is missing: run 'bash e2e/base-images.sh' as root first`);
    }
    [image, bed] = await Promise.all([
      buildImage({
        dockerfile: join(REPO_ROOT, "consumer", "Dockerfile"),
        context: REPO_ROOT,
        tag: TAG,
        buildArgs: { GIT_COMMIT: commit, BUILD_TIME: new Date().toISOString() },
      }),
      startRenderedPodBed("dev"),
    ]);
  });

  // A consumer a failed test left running would call STS and SQS during the next test.
  afterEach(async () => {
    for (const container of containers.splice(0)) await container.remove();
  });
  after(async () => {
    await bed?.close();
  });

  async function start(t: TestContext, podRun: PodRun, name: string): Promise<{ run: PodRun; container: RunningContainer; consumer: LaunchedConsumer }> {
    const run = await onFreeHealthPort(podRun);
    t.diagnostic(run.note);
    const container = await runContainer(toContainerRun(run.launch, { ...run.host, image: image.tag, name }));
    containers.push(container);
    const consumer = containerConsumer(container);
    const banner = await consumer.waitForLog(() => true, 30_000, "the version banner");
    assert.equal(banner.event, "start");
    assert.equal(banner.commit, commit, "the container runs an image of another commit");
    return { run, container, consumer };
  }

  void it("with the webhook's IRSA environment and token: runs restricted, consumes 'Hello world!' with web identity credentials, exits 0 within the grace period", async (t) => {
    t.diagnostic(`image ${image.tag} built from consumer/Dockerfile in ${image.seconds.toFixed(1)} s`);
    t.diagnostic(`queue: the emulator's ${bed.queueUrl} in place of the rendered ${bed.workload.queue.url}; everything else as rendered`);
    const { run, container, consumer } = await start(t, bed.irsa, "e2e-consumer-irsa");
    const { launch } = run;

    const facts = await readContainerFacts(container, IMAGE_NODE, launch.env.AWS_WEB_IDENTITY_TOKEN_FILE ?? "", ["/", "/app", "/tmp", "/home/nonroot"]);
    const { uid, gid } = launch.user!;
    assert.equal(facts.status.Uid, `${uid}\t${uid}\t${uid}\t${uid}`);
    assert.equal(facts.status.Gid, `${gid}\t${gid}\t${gid}\t${gid}`);
    assert.deepEqual(launch.capDrop, ["ALL"]);
    for (const set of ["CapEff", "CapPrm", "CapBnd"] as const) assert.equal(facts.status[set], "0000000000000000", `${set} is not empty`);
    assert.equal(facts.status.NoNewPrivs, "1");
    assert.equal(facts.status.Seccomp, "2", "seccomp filter mode: the runtime's default profile");
    assert.deepEqual(facts.writable, { "/": "EROFS", "/app": "EROFS", "/tmp": "EROFS", "/home/nonroot": "EROFS" });
    assert.deepEqual(facts.token, { uid, gid: 0, mode: "600", readable: "ok" }, "the token is not mounted as the kubelet projects it");
    assert.equal(facts.memoryLimitBytes, launch.resources.memoryLimitBytes);
    assert.equal(facts.cpuPeriodUs, KUBELET_CFS_PERIOD_US);
    assert.equal(facts.cpuQuotaUs, (launch.resources.cpuLimitMillicores! * KUBELET_CFS_PERIOD_US) / 1000);
    const shares = Math.floor((launch.resources.cpuRequestMillicores! * 1024) / 1000);
    if (facts.cpuShares !== null) assert.equal(facts.cpuShares, shares);
    else assert.equal(facts.cpuWeight, 1 + Math.floor(((shares - 2) * 9999) / 262_142), "cgroup v2 weight from the CPU request");

    await expectConsumesWithWebIdentity(t, bed, run, consumer);
  });

  void it("without the role annotation: reports missing credentials, stays up and not ready", async (t) => {
    const { run, consumer } = await start(t, bed.withoutIrsa, "e2e-consumer-no-irsa");
    await expectNotReadyWithoutCredentials(bed, run, consumer);
  });
});

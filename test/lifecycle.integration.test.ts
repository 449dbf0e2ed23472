/**
 * What a stack keeps, under Pulumi mocks (infra/lifecycle.ts, infra/developer-access.ts): the resource
 * options the engine receives for a long-lived and for an ephemeral stack, a developer's stack among them,
 * the refusals at preview that come from comparing the configuration with the stack's own last `createdWith`
 * output, and the order `pulumi destroy` would delete in, with the guard that stops a platform's destroy
 * while it lists developers.
 *
 * The program's last update is a real earlier run: its outputs are served back to it as its own stack's, the
 * way a StackReference to itself reads them from the stack's state.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { DEFAULT_KEDA_LOCATION } from "../infra/keda";
import type { ProgramRun, RecordedResource } from "./helpers/mocks";
import {
  ORGANIZATION,
  REPO_ROOT,
  asPreviousUpdate,
  assertSucceeded,
  borrowing,
  named,
  ofType,
  oneOfType,
  runPrograms,
  scenario,
  type ConfigValue,
} from "./helpers/program";

const ALICE_ARN = "arn:aws:iam::123456789012:role/alice";
const SELF = (stack: string) => `${ORGANIZATION}/sqs-eks-consumer/${stack}`;
const PLATFORM: Record<string, ConfigValue> = {
  developers: [`alice=${ALICE_ARN}`],
  autoscaling: "keda",
  endpointPublicAccessCidrs: ["203.0.113.0/24"],
};
const ADOPTED = {
  "platform-prod": {
    endpoint: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com",
    certificateAuthorityData: "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t",
    oidcIssuerUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
    oidcProviderArn:
      "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
  },
};

/** The types whose loss costs data or a rebuild (the preview gate's list, scripts/preview-gate/judge.ts). */
const QUEUE = "aws:sqs/queue:Queue";
const REPOSITORY = "aws:ecr/repository:Repository";

let platform: ProgramRun;
let scratch: ProgramRun;
let alice: ProgramRun;
let toFifo: ProgramRun;
let toFifoAllowed: ProgramRun;
let toFifoEphemeral: ProgramRun;
let newNetwork: ProgramRun;
let renamed: ProgramRun;
let adopting: ProgramRun;
let unchanged: ProgramRun;
let emptied: ProgramRun;
let scratchToFifo: ProgramRun;
let legacyToFifo: ProgramRun;
let zonesRecorded: ProgramRun;
let versionJump: ProgramRun;

/** A stack's last outputs with its createdWith changed (or removed, given undefined), as a StackReference serves them. */
function lastUpdate(run: ProgramRun, createdWith: (recorded: Record<string, unknown>) => unknown) {
  const { createdWith: recorded, ...others } = run.outputs;
  const changed = createdWith(recorded as Record<string, unknown>);
  return {
    outputs: changed === undefined ? others : { ...others, createdWith: changed },
    secretOutputNames: run.secretOutputs,
  };
}

before(async () => {
  [platform, scratch] = (await runPrograms([
    await scenario("prod", PLATFORM),
    await scenario("scratch", { ephemeral: true, autoscaling: "keda" }),
  ])) as [ProgramRun, ProgramRun];
  // Each later run is the next update of "prod" (or of it renamed): it reads platform's outputs as its own.
  const after = (stack: string) => ({ otherStacks: { [SELF(stack)]: asPreviousUpdate(platform) } });
  const previous = (stack: string, outputs: ReturnType<typeof lastUpdate>) => ({
    otherStacks: { [SELF(stack)]: outputs },
  });
  [
    alice,
    toFifo,
    toFifoAllowed,
    toFifoEphemeral,
    newNetwork,
    renamed,
    adopting,
    unchanged,
    emptied,
    scratchToFifo,
    legacyToFifo,
    zonesRecorded,
    versionJump,
  ] = (await runPrograms([
    await scenario(
      "alice",
      { clusterMode: "borrow", clusterStack: SELF("prod"), ephemeral: true },
      borrowing(platform, "arn:aws:sts::123456789012:assumed-role/alice/alice-laptop"),
    ),
    await scenario("prod", { ...PLATFORM, queueType: "fifo" }, after("prod")),
    await scenario("prod", { ...PLATFORM, queueType: "fifo", allowQueueReplacement: true }, after("prod")),
    await scenario("prod", { ...PLATFORM, queueType: "fifo", ephemeral: true }, after("prod")),
    await scenario("prod", { ...PLATFORM, vpcCidr: "10.1.0.0/16", availabilityZoneCount: 3 }, after("prod")),
    await scenario("production", PLATFORM, after("production")),
    await scenario(
      "prod",
      { clusterMode: "adopt", clusterName: "platform-prod" },
      { ...after("prod"), existingClusters: ADOPTED },
    ),
    await scenario("prod", PLATFORM, after("prod")),
    await scenario("prod", { ...PLATFORM, developers: [] }, after("prod")),
    await scenario(
      "scratch",
      { ephemeral: true, autoscaling: "keda", queueType: "fifo" },
      { otherStacks: { [SELF("scratch")]: asPreviousUpdate(scratch) } },
    ),
    // The last update was made by a version of the program that exported no createdWith.
    await scenario(
      "prod",
      { ...PLATFORM, queueType: "fifo" },
      previous(
        "prod",
        lastUpdate(platform, () => undefined),
      ),
    ),
    // The last update placed the subnets in zones b and c (zone a was not available then).
    await scenario(
      "prod",
      PLATFORM,
      previous(
        "prod",
        lastUpdate(platform, (recorded) => ({ ...recorded, availabilityZones: ["us-west-2b", "us-west-2c"] })),
      ),
    ),
    await scenario(
      "prod",
      { ...PLATFORM, kubernetesVersion: "1.35" },
      previous(
        "prod",
        lastUpdate(platform, (recorded) => ({ ...recorded, kubernetesVersion: "1.33" })),
      ),
    ),
  ])) as [
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
    ProgramRun,
  ];
});

function options(resource: RecordedResource) {
  return { protect: resource.protect, retainOnDelete: resource.retainOnDelete };
}

/**
 * The refusal a run logged, after checking it is the one error besides the stop it caused, and that nothing
 * holding state was registered.
 */
function refusal(run: ProgramRun): string {
  const [logged, ...others] = run.errors;
  assert.match(logged ?? "", /^this change would destroy state \(\d+ problems?\): /, run.errors.join("\n"));
  assert.ok(others.length > 0, "the program stopped too");
  for (const other of others) assert.match(other, /the change was refused \(the error above says why\)/);
  for (const type of [QUEUE, REPOSITORY, "aws:ec2/vpc:Vpc", "eks:index:Cluster"])
    assert.deepEqual(ofType(run, type), [], `${type} registered although the change was refused`);
  return logged!;
}

describe("a long-lived stack (the default)", () => {
  it("protects and retains the queue and the DLQ, and replaces neither delete-first", () => {
    assertSucceeded(platform);
    for (const queue of ofType(platform, QUEUE)) {
      assert.deepEqual(options(queue), { protect: true, retainOnDelete: true }, queue.name);
      assert.equal(queue.deleteBeforeReplace, false, queue.name);
    }
    assert.equal(ofType(platform, QUEUE).length, 2);
  });

  it("retains the queues' TLS-only and redrive-allow policies with the queues, also when allowQueueReplacement lets them be replaced", () => {
    for (const run of [platform, toFifoAllowed]) {
      const policies = [
        ...ofType(run, "aws:sqs/queuePolicy:QueuePolicy"),
        ...ofType(run, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"),
      ];
      assert.equal(policies.length, 3);
      for (const policy of policies) assert.equal(policy.retainOnDelete, true, `${policy.name}`);
    }
  });

  it("protects and retains the ECR repository, which ECR may not delete while it holds images", () => {
    const repository = oneOfType(platform, REPOSITORY);
    assert.deepEqual(options(repository), { protect: true, retainOnDelete: true });
    assert.equal(repository.inputs.forceDelete, false);
  });

  it("gives the cluster EKS deletion protection, and a transform that protects pulumi-eks's cluster and OIDC provider", () => {
    const cluster = oneOfType(platform, "eks:index:Cluster");
    assert.equal(cluster.inputs.deletionProtection, true);
    assert.equal(cluster.transforms, 1);
    // The component itself is not protected: protect would pass to all its children, access entries included.
    assert.equal(cluster.protect, false);
  });

  it("exports createdWith: the names, region, mode and network its resources were actually given", () => {
    const createdWith = platform.outputs.createdWith as Record<string, unknown>;
    assert.equal(createdWith.queueName, named(platform, "queue-queue").inputs.name);
    assert.equal(createdWith.deadLetterQueueName, named(platform, "queue-dlq").inputs.name);
    assert.equal(createdWith.clusterName, oneOfType(platform, "eks:index:Cluster").inputs.name);
    assert.equal(createdWith.clusterMode, "create");
    assert.equal(createdWith.region, "us-west-2");
    assert.deepEqual(createdWith.network, {
      vpcCidr: oneOfType(platform, "aws:ec2/vpc:Vpc").inputs.cidrBlock,
      availabilityZoneCount: ofType(platform, "aws:ec2/subnet:Subnet").length / 2,
    });
    assert.equal(createdWith.ephemeral, false);
    assert.equal((scratch.outputs.createdWith as Record<string, unknown>).ephemeral, true);
    const subnetZone = (run: ProgramRun, name: string) =>
      ofType(run, "aws:ec2/subnet:Subnet").find((subnet) => subnet.name === name)?.inputs.availabilityZone;
    assert.deepEqual(createdWith.availabilityZones, [
      subnetZone(platform, "network-private-0"),
      subnetZone(platform, "network-private-1"),
    ]);
  });

  it("places the subnets in the zones the last update recorded, not in the zones available now", () => {
    assertSucceeded(zonesRecorded);
    for (const role of ["private", "public"])
      assert.deepEqual(
        [0, 1].map(
          (i) =>
            ofType(zonesRecorded, "aws:ec2/subnet:Subnet").find((subnet) => subnet.name === `network-${role}-${i}`)
              ?.inputs.availabilityZone,
        ),
        ["us-west-2b", "us-west-2c"],
        role,
      );
    assert.deepEqual((zonesRecorded.outputs.createdWith as Record<string, unknown>).availabilityZones, [
      "us-west-2b",
      "us-west-2c",
    ]);
  });

  it("reads its own last outputs through a StackReference to itself", () => {
    const self = ofType(platform, "pulumi:pulumi:StackReference");
    assert.deepEqual(
      self.map((r) => r.inputs.name),
      [SELF("prod")],
    );
  });
});

describe("an ephemeral stack", () => {
  it("protects and retains nothing, deletes the repository with its images, and has no cluster deletion protection", () => {
    assertSucceeded(scratch);
    for (const resource of scratch.resources)
      assert.deepEqual(options(resource), { protect: false, retainOnDelete: false }, resource.name);
    assert.equal(oneOfType(scratch, REPOSITORY).inputs.forceDelete, true);
    const cluster = oneOfType(scratch, "eks:index:Cluster");
    assert.equal(cluster.inputs.deletionProtection, false);
    assert.equal(cluster.transforms, 0);
  });

  it("a developer's borrowing stack protects nothing either", () => {
    assertSucceeded(alice);
    for (const resource of alice.resources)
      assert.deepEqual(options(resource), { protect: false, retainOnDelete: false }, resource.name);
  });
});

describe("a change that cannot be made in place", () => {
  it("refuses queueType on a long-lived stack, naming the key and how to migrate, before any queue registers", () => {
    const message = refusal(toFifo);
    assert.match(message, /queueType: changing it from standard to fifo replaces the queue and the dead-letter queue/);
    assert.match(message, /deleting every message in them/);
    // SQS moves messages only between queues of the same type: across a type change, draining is the way.
    assert.match(message, /drain both queues first \(SQS moves messages only between queues of the same type/);
    assert.doesNotMatch(message, /created beside the old ones/);
    assert.match(message, /allowQueueReplacement/);
  });

  it("is the refusal docs/DEPLOY.md shows", () => {
    const doc = readFileSync(path.join(REPO_ROOT, "docs", "DEPLOY.md"), "utf8");
    const section = doc.slice(doc.indexOf("### Replacing the queue"));
    assert.equal(/```text\n([\s\S]*?)\n```/.exec(section)?.[1], refusal(toFifo));
  });

  it("with allowQueueReplacement, registers the new queues unprotected but retained, and says to remove it", () => {
    assertSucceeded(toFifoAllowed);
    for (const queue of ofType(toFifoAllowed, QUEUE)) {
      assert.match(String(queue.inputs.name), /\.fifo$/);
      assert.deepEqual(options(queue), { protect: false, retainOnDelete: true }, queue.name);
    }
    assert.ok(toFifoAllowed.warnings?.some((w) => w.startsWith("allowQueueReplacement: the queues are not protected")));
  });

  it("on an ephemeral stack, applies it with a warning that the messages are deleted", () => {
    assertSucceeded(scratchToFifo);
    assert.ok(
      scratchToFifo.warnings?.some((w) => /^queueType: .* messages are deleted$/.test(w)),
      (scratchToFifo.warnings ?? []).join("\n"),
    );
  });

  it("refuses it in the update that makes a long-lived stack ephemeral: the state still protects and retains the queues", () => {
    const message = refusal(toFifoEphemeral);
    assert.match(message, /queueType: changing it from standard to fifo replaces the queue/);
    assert.match(message, /this update also makes the stack ephemeral/);
    assert.match(message, /run `pulumi up` with only `ephemeral: true` first/);
  });

  it("refuses it after an update that recorded no createdWith, comparing with that update's queue URLs", () => {
    assert.match(
      refusal(legacyToFifo),
      /queueType: changing it from standard to fifo replaces the queue and the dead-letter queue .* deleting every message in them/,
    );
  });

  it("refuses a Kubernetes version more than one minor version above the one the cluster runs", () => {
    assert.match(
      refusal(versionJump),
      /kubernetesVersion: the cluster runs 1\.33; 1\.35 skips a minor version, .* update to 1\.34 first/,
    );
  });

  it("refuses the network keys of a created cluster, each named with its old and new value, before any VPC registers", () => {
    const message = refusal(newNetwork);
    assert.match(message, /\(2 problems\)/);
    assert.match(message, /availabilityZoneCount: fixed once the cluster exists \(it was 2, it is now 3\)/);
    assert.match(
      message,
      /vpcCidr: fixed once the cluster exists \(it was "10\.0\.0\.0\/16", it is now "10\.1\.0\.0\/16"\)/,
    );
    assert.match(message, /update the cluster's subnets in place, failing after the new network exists/);
  });

  it("refuses a stack rename: it would replace the queues and the cluster", () => {
    const message = refusal(renamed);
    assert.match(
      message,
      /the stack's name: the queue's name would change from sqs-eks-consumer-prod-queue to sqs-eks-consumer-production-queue/,
    );
    assert.match(
      message,
      /the stack's name: the cluster's name would change from sqs-eks-consumer-prod to sqs-eks-consumer-production/,
    );
  });

  it("refuses leaving create mode: the cluster this stack created would be deleted", () => {
    assert.match(
      refusal(adopting),
      /clusterMode: changing it from create to adopt deletes the cluster this stack created/,
    );
  });

  it("passes the same configuration again, with nothing to say", () => {
    assertSucceeded(unchanged);
    assert.deepEqual(
      (unchanged.warnings ?? []).filter((w) => /allowQueueReplacement|fixed once|replaces the queue/.test(w)),
      [],
    );
  });
});

describe("destroying a platform stack", () => {
  /**
   * The order `pulumi destroy` deletes in, by the engine's rule (pulumi/pulumi pkg/resource/deploy/
   * step_generator.go `ScheduleDeletes`): repeatedly take every resource nothing left depends on. A resource
   * depends on its explicit and input dependencies and on its parent (pkg/resource/graph/dependency_graph.go);
   * depending on a component is depending on its children too (`DependenciesOf`), which under mocks are the
   * component alone (KEDA's chart is one resource here).
   */
  function deletionRound(run: ProgramRun): Map<string, number> {
    const dependsOn = new Map(run.resources.map((r) => [r.urn, new Set([...r.dependencies, r.parent])]));
    const left = new Set(dependsOn.keys());
    const round = new Map<string, number>();
    for (let n = 0; left.size > 0; n++) {
      const free = [...left].filter((urn) => ![...left].some((other) => dependsOn.get(other)!.has(urn)));
      assert.ok(free.length > 0, "the dependency graph has a cycle");
      for (const urn of free) {
        round.set(urn, n);
        left.delete(urn);
      }
    }
    return round;
  }

  const DIRECTORY = "developers-directory";

  it("deletes the developer directory, and the stack's own ScaledObject, while KEDA's chart still exists", () => {
    const round = deletionRound(platform);
    const chart = oneOfType(platform, "kubernetes:helm.sh/v4:Chart");
    const scaledObject = oneOfType(platform, "kubernetes:keda.sh/v1alpha1:ScaledObject");
    for (const before of [named(platform, DIRECTORY), scaledObject]) {
      assert.ok(round.get(before.urn)! < round.get(chart.urn)!, `${before.name} goes before the chart`);
    }
  });

  it("stops at the developer directory while developers are listed: protected, and reached before KEDA's chart", () => {
    const directory = named(platform, DIRECTORY);
    assert.equal(directory.protect, true);
    assert.deepEqual(directory.inputs.metadata, {
      name: "sqs-eks-consumer-developers",
      namespace: "kube-public",
      labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "sqs-eks-consumer" },
    });
    // The engine refuses to delete a protected resource, so the destroy fails at its preview, before anything
    // is deleted; with --exclude-protected it keeps what the directory depends on, the chart among them.
    assert.ok(directory.dependencies.includes(oneOfType(platform, "kubernetes:helm.sh/v4:Chart").urn));
    assert.equal(named(scratch, DIRECTORY).protect, false, "no developers: nothing to guard");
  });

  it("once developers is emptied, keeps the directory unprotected and drops the developers' access, so the next destroy passes", () => {
    assertSucceeded(emptied);
    const directory = named(emptied, DIRECTORY);
    assert.equal(directory.protect, false);
    const listed = JSON.parse((directory.inputs.data as Record<string, string>)["directory.json"]!) as {
      developers: unknown[];
    };
    assert.deepEqual(listed.developers, []);
    for (const type of [
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
      "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    ])
      assert.deepEqual(
        ofType(emptied, type).filter((r) => r.name.startsWith("developers-")),
        [],
        `${type} without developers`,
      );
    const entries = oneOfType(emptied, "eks:index:Cluster").inputs.accessEntries as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(entries).filter((key) => key.startsWith("developer-")),
      [],
    );
  });

  it("makes no developer's namespace: developer stacks make and delete their own, so none outlives its stack", () => {
    for (const run of [platform, emptied])
      assert.deepEqual(
        ofType(run, "kubernetes:core/v1:Namespace").map((ns) => (ns.inputs.metadata as { name: string }).name),
        [DEFAULT_KEDA_LOCATION.namespace, run.outputs.namespace].sort(),
        "KEDA's and its own",
      );
  });
});

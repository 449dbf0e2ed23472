/**
 * infra/lifecycle.ts without a program run: the comparison with the last `createdWith` for the cases the program
 * runs do not reach (a region, a project rename, a given VPC, a first update), the resource options per
 * lifecycle, and the transform that protects what pulumi-eks creates for a cluster.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import {
  clusterStateOptions,
  compareCreatedWith,
  networkKeys,
  protectClusterState,
  queueStateOptions,
  readPreviousUpdate,
  repositoryStateOptions,
  StateChangeRefused,
  versionChange,
  type CreatedWith,
  type PreviousUpdate,
} from "../infra/lifecycle";
import { StackConfigError } from "../infra/config";

const LONG_LIVED = { ephemeral: false, allowQueueReplacement: false };
const EPHEMERAL = { ephemeral: true, allowQueueReplacement: false };
const PROJECT = "sqs-eks-consumer";

const PROD: CreatedWith = {
  queueName: "sqs-eks-consumer-prod-queue",
  deadLetterQueueName: "sqs-eks-consumer-prod-dlq",
  region: "us-west-2",
  clusterMode: "create",
  clusterName: "sqs-eks-consumer-prod",
  network: networkKeys({
    vpc: {
      mode: "given",
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: ["subnet-0a", "subnet-0b"],
      publicSubnetIds: [],
    },
    endpointPublicAccessCidrs: [],
  }),
  ephemeral: false,
  kubernetesVersion: "",
  availabilityZones: [],
  nodeProvisioning: "auto-mode",
};

/** A last update that exported `recorded` as its createdWith, read back as the guard reads it. */
const last = (recorded: object): PreviousUpdate => readPreviousUpdate({ createdWith: recorded })!;

/** The token a resource class registers under (internal to the SDK, hence the cast). */
const token = (resourceClass: unknown) => (resourceClass as { __pulumiType: string }).__pulumiType;

describe("comparing with the last update", () => {
  it("finds nothing to compare on a stack's first update", () => {
    assert.deepEqual(compareCreatedWith(undefined, { ...PROD, queueName: "other" }, LONG_LIVED, PROJECT), {
      refusals: [],
      warnings: [],
    });
  });

  it("refuses allowQueueReplacement before an update has recorded createdWith: retainOnDelete may not be in the state yet", () => {
    const { refusals } = compareCreatedWith(
      undefined,
      PROD,
      { ephemeral: false, allowQueueReplacement: true },
      PROJECT,
    );
    assert.equal(refusals.length, 1);
    assert.match(refusals[0]!, /^allowQueueReplacement: .* run `pulumi up` without it first$/);
  });

  it("refuses another region: the queues would be replaced there", () => {
    const { refusals } = compareCreatedWith(last(PROD), { ...PROD, region: "eu-west-1" }, LONG_LIVED, PROJECT);
    assert.equal(refusals.length, 1);
    assert.match(refusals[0]!, /^aws:region: changing it from us-west-2 to eu-west-1 replaces the queue/);
  });

  it("offers a move of the messages only where SQS can make it: between queues of the same type", () => {
    const fifo = {
      ...PROD,
      queueName: `${PROD.queueName}.fifo`,
      deadLetterQueueName: `${PROD.deadLetterQueueName}.fifo`,
    };
    const [typeChange] = compareCreatedWith(last(PROD), fifo, LONG_LIVED, PROJECT).refusals;
    assert.match(typeChange!, /drain both queues first \(SQS moves messages only between queues of the same type/);
    assert.doesNotMatch(typeChange!, /created beside the old ones/);
    const renamed = {
      ...PROD,
      queueName: "sqs-eks-consumer-production-queue",
      deadLetterQueueName: "sqs-eks-consumer-production-dlq",
    };
    const [rename] = compareCreatedWith(last(PROD), renamed, LONG_LIVED, PROJECT).refusals;
    assert.match(
      rename!,
      /created beside the old ones and move the dead-letter queue's messages with `npm run redrive`/,
    );
  });

  it("names a project rename as such", () => {
    const renamed = { ...PROD, queueName: "orders-prod-queue", deadLetterQueueName: "orders-prod-dlq" };
    const { refusals } = compareCreatedWith(
      last({
        ...PROD,
        queueName: "shop-prod-queue",
        deadLetterQueueName: "shop-prod-dlq",
        clusterName: renamed.clusterName,
      }),
      renamed,
      LONG_LIVED,
      "orders",
    );
    assert.match(refusals[0]!, /^the project's name: the queue's name would change from shop-prod-queue/);
  });

  it("refuses each changed key of a given VPC, and none of a network left as it was", () => {
    const moved = networkKeys({
      vpc: {
        mode: "given",
        vpcId: "vpc-0fedcba9876543210",
        privateSubnetIds: ["subnet-0c", "subnet-0d"],
        publicSubnetIds: [],
      },
      endpointPublicAccessCidrs: ["203.0.113.7/32"],
    });
    const { refusals } = compareCreatedWith(last(PROD), { ...PROD, network: moved }, EPHEMERAL, PROJECT);
    assert.deepEqual(
      refusals.map((r) => r.split(":")[0]),
      ["privateSubnetIds", "vpcId"],
      "refused on an ephemeral stack too: EKS refuses the update whatever the stack",
    );
    const allowList = networkKeys({
      vpc: {
        mode: "given",
        vpcId: "vpc-0123456789abcdef0",
        privateSubnetIds: ["subnet-0a", "subnet-0b"],
        publicSubnetIds: [],
      },
      endpointPublicAccessCidrs: ["198.51.100.0/24"],
    });
    assert.deepEqual(compareCreatedWith(last(PROD), { ...PROD, network: allowList }, LONG_LIVED, PROJECT).refusals, []);
  });

  it("refuses switching between a VPC of its own and a given one, naming every key that changes", () => {
    const own = networkKeys({
      vpc: { mode: "create", cidr: "10.0.0.0/16", zoneCount: 2, natGateways: "single" },
      endpointPublicAccessCidrs: [],
    });
    const { refusals } = compareCreatedWith(last(PROD), { ...PROD, network: own }, LONG_LIVED, PROJECT);
    assert.deepEqual(
      refusals.map((r) => r.split(":")[0]),
      ["availabilityZoneCount", "privateSubnetIds", "publicSubnetIds", "vpcCidr", "vpcId"],
    );
    assert.match(
      refusals.find((r) => r.startsWith("vpcId"))!,
      /it was "vpc-0123456789abcdef0", it is now unset/,
    );
  });

  it("does not hold a borrowing or adopting stack to a network: it had none", () => {
    const borrowing = { ...PROD, clusterMode: "borrow", clusterName: "", network: {} };
    assert.deepEqual(compareCreatedWith(last(borrowing), borrowing, LONG_LIVED, PROJECT), {
      refusals: [],
      warnings: [],
    });
  });

  it("with allowQueueReplacement, lets the queues go but still refuses the cluster's rename", () => {
    const renamed = {
      ...PROD,
      queueName: "sqs-eks-consumer-production-queue",
      deadLetterQueueName: "sqs-eks-consumer-production-dlq",
      clusterName: "sqs-eks-consumer-production",
    };
    const { refusals, warnings } = compareCreatedWith(
      last(PROD),
      renamed,
      { ephemeral: false, allowQueueReplacement: true },
      PROJECT,
    );
    assert.deepEqual(
      refusals.map((r) => r.slice(0, 40)),
      ["the stack's name: the cluster's name wou"],
    );
    assert.equal(warnings.length, 1);
  });
});

describe("comparing with what the state holds", () => {
  const FIFO = {
    ...PROD,
    queueName: "sqs-eks-consumer-prod-queue.fifo",
    deadLetterQueueName: "sqs-eks-consumer-prod-dlq.fifo",
  };
  const ALLOW = { ephemeral: false, allowQueueReplacement: true };

  it("reads an update made before createdWith existed from its queue URLs and cluster name, and refuses the same changes", () => {
    const previous = readPreviousUpdate({
      queueUrl: "https://sqs.us-west-2.amazonaws.com/123456789012/sqs-eks-consumer-prod-queue",
      deadLetterQueueUrl: "https://sqs.us-west-2.amazonaws.com/123456789012/sqs-eks-consumer-prod-dlq",
      clusterName: "sqs-eks-consumer-prod",
    });
    assert.deepEqual(previous, {
      source: "outputs",
      queueName: "sqs-eks-consumer-prod-queue",
      deadLetterQueueName: "sqs-eks-consumer-prod-dlq",
      region: "us-west-2",
      clusterName: "sqs-eks-consumer-prod",
    });
    assert.match(
      compareCreatedWith(previous, FIFO, LONG_LIVED, PROJECT).refusals[0]!,
      /^queueType: changing it from standard to fifo/,
    );
    assert.match(
      compareCreatedWith(previous, { ...PROD, region: "eu-west-1" }, LONG_LIVED, PROJECT).refusals[0]!,
      /^aws:region: /,
    );
    const renamed = compareCreatedWith(
      previous,
      { ...PROD, clusterName: "sqs-eks-consumer-production" },
      LONG_LIVED,
      PROJECT,
    );
    assert.match(renamed.refusals[0]!, /^the stack's name: the cluster's name would change/);
    assert.match(compareCreatedWith(previous, PROD, ALLOW, PROJECT).refusals[0]!, /^allowQueueReplacement: /);
    const nodeGroup = { ...PROD, nodeProvisioning: "node-group" };
    assert.deepEqual(compareCreatedWith(previous, nodeGroup, LONG_LIVED, PROJECT), { refusals: [], warnings: [] });
    for (const asked of ["", "auto-mode"])
      assert.match(
        compareCreatedWith(previous, { ...PROD, nodeProvisioning: asked }, LONG_LIVED, PROJECT).refusals[0]!,
        /^nodeProvisioning: .*managed node group/,
        "a cluster created before createdWith has a node group",
      );
    assert.equal(readPreviousUpdate({}), undefined, "a first update has nothing to compare");
  });

  it("refuses a replacement in the update that makes the stack ephemeral, and warns once the state is ephemeral", () => {
    for (const recorded of [PROD, { ...PROD, ephemeral: undefined }]) {
      const { refusals, warnings } = compareCreatedWith(last(recorded), FIFO, EPHEMERAL, PROJECT);
      assert.equal(refusals.length, 1);
      assert.match(refusals[0]!, /^queueType: .* this update also makes the stack ephemeral/);
      assert.deepEqual(warnings, []);
      const cluster = compareCreatedWith(
        last(recorded),
        { ...PROD, clusterName: "sqs-eks-consumer-production" },
        EPHEMERAL,
        PROJECT,
      );
      assert.match(cluster.refusals[0]!, /^the stack's name: the cluster's name .* makes the stack ephemeral/);
    }
    const ephemeral = compareCreatedWith(last({ ...PROD, ephemeral: true }), FIFO, EPHEMERAL, PROJECT);
    assert.deepEqual(ephemeral.refusals, []);
    assert.match(ephemeral.warnings[0]!, /messages are deleted$/);
  });

  it("refuses allowQueueReplacement unless the last update recorded a long-lived state, which retains the queues", () => {
    assert.deepEqual(compareCreatedWith(last(PROD), FIFO, ALLOW, PROJECT).refusals, []);
    for (const recorded of [
      { ...PROD, ephemeral: true },
      { ...PROD, ephemeral: undefined },
    ])
      assert.match(compareCreatedWith(last(recorded), FIFO, ALLOW, PROJECT).refusals[0]!, /^allowQueueReplacement: /);
  });

  it("refuses a change of node provisioning, and asks a stack from before the record to set it", () => {
    // A created stack whose last update recorded no nodeProvisioning was created with a managed node group.
    const before = last({ ...PROD, nodeProvisioning: undefined });
    for (const lifecycle of [LONG_LIVED, EPHEMERAL]) {
      const unset = compareCreatedWith(before, { ...PROD, nodeProvisioning: "" }, lifecycle, PROJECT).refusals;
      assert.equal(unset.length, 1);
      assert.match(
        unset[0]!,
        /^nodeProvisioning: unset, it means auto-mode, but this stack's cluster runs a managed node group/,
      );
      assert.match(unset[0]!, /pulumi config set nodeProvisioning node-group/);
      assert.match(unset[0]!, /docs\/DEPLOY\.md, "From a node group to Auto Mode, without losing messages"/);
      assert.match(
        compareCreatedWith(before, { ...PROD, nodeProvisioning: "auto-mode" }, lifecycle, PROJECT).refusals[0]!,
        /^nodeProvisioning: this stack's cluster runs a managed node group .*auto-mode would delete the node group.*set auto-mode-with-node-group first/,
      );
    }
    for (const asked of ["node-group", "auto-mode-with-node-group"])
      assert.deepEqual(
        compareCreatedWith(before, { ...PROD, nodeProvisioning: asked }, LONG_LIVED, PROJECT).refusals,
        [],
      );
    // Recorded: a switch either way is refused; unset keeps what the cluster runs only when that is Auto Mode.
    const nodeGroup = last({ ...PROD, nodeProvisioning: "node-group" });
    assert.match(
      compareCreatedWith(nodeGroup, { ...PROD, nodeProvisioning: "" }, LONG_LIVED, PROJECT).refusals[0]!,
      /^nodeProvisioning: unset/,
    );
    assert.match(
      compareCreatedWith(nodeGroup, { ...PROD, nodeProvisioning: "auto-mode" }, LONG_LIVED, PROJECT).refusals[0]!,
      /^nodeProvisioning: /,
    );
    // The move to Auto Mode: Auto Mode beside the group, then (after a drain) the group gone; never back.
    const both = last({ ...PROD, nodeProvisioning: "auto-mode-with-node-group" });
    assert.deepEqual(
      compareCreatedWith(both, { ...PROD, nodeProvisioning: "auto-mode" }, LONG_LIVED, PROJECT).refusals,
      [],
    );
    assert.match(
      compareCreatedWith(both, { ...PROD, nodeProvisioning: "" }, LONG_LIVED, PROJECT).refusals[0]!,
      /^nodeProvisioning: unset, .* runs EKS Auto Mode beside its managed node group/,
    );
    assert.match(
      compareCreatedWith(both, { ...PROD, nodeProvisioning: "node-group" }, LONG_LIVED, PROJECT).refusals[0]!,
      /would turn Auto Mode off/,
    );
    const autoMode = last(PROD);
    assert.match(
      compareCreatedWith(autoMode, { ...PROD, nodeProvisioning: "auto-mode-with-node-group" }, LONG_LIVED, PROJECT)
        .refusals[0]!,
      /^nodeProvisioning: this stack's cluster runs EKS Auto Mode; auto-mode-with-node-group would turn Auto Mode off/,
    );
    assert.deepEqual(compareCreatedWith(autoMode, { ...PROD, nodeProvisioning: "" }, LONG_LIVED, PROJECT).refusals, []);
    assert.match(
      compareCreatedWith(autoMode, { ...PROD, nodeProvisioning: "node-group" }, EPHEMERAL, PROJECT).refusals[0]!,
      /^nodeProvisioning: this stack's cluster runs EKS Auto Mode; node-group would turn Auto Mode off, which the provider refuses/,
    );
    // A stack that borrows or adopts its cluster has no nodes of its own to compare.
    assert.deepEqual(
      compareCreatedWith(
        last({ ...PROD, clusterMode: "borrow", clusterName: "", network: {}, nodeProvisioning: "" }),
        { ...PROD, clusterMode: "borrow", clusterName: "", network: {}, nodeProvisioning: "" },
        LONG_LIVED,
        PROJECT,
      ).refusals,
      [],
    );
  });

  it("refuses a Kubernetes version EKS would refuse: a downgrade, or more than one minor version up", () => {
    // EKS user guide, "Update existing cluster to new Kubernetes version".
    assert.equal(versionChange("1.33", "1.33"), undefined);
    assert.equal(versionChange("1.33", "1.34"), undefined);
    assert.equal(versionChange("", "1.34"), undefined, "no recorded version: nothing to check");
    assert.equal(versionChange("1.33", ""), undefined, "no version asked for: the cluster keeps its own");
    assert.match(versionChange("1.33", "1.32")!, /downgrade/);
    assert.match(versionChange("1.33", "1.35")!, /update to 1\.34 first/);
    assert.match(versionChange("1.33", "2.0")!, /skips a minor version/);
    const running = last({ ...PROD, kubernetesVersion: "1.33" });
    assert.match(
      compareCreatedWith(running, { ...PROD, kubernetesVersion: "1.31" }, EPHEMERAL, PROJECT).refusals[0]!,
      /^kubernetesVersion: the cluster runs 1\.33; 1\.31 would be a downgrade/,
    );
    assert.deepEqual(
      compareCreatedWith(running, { ...PROD, kubernetesVersion: "1.34" }, LONG_LIVED, PROJECT).refusals,
      [],
    );
  });
});

describe("the refusal", () => {
  it("carries its refusals and a code in the program's style, as a bad stack config's", () => {
    const error = new StateChangeRefused(["region: us-east-1 -> eu-west-1"]);
    assert.equal(error.code, "StateChangeRefused");
    assert.equal(new StackConfigError([]).code, "InvalidStackConfig");
    assert.match(error.code, /^[A-Z][A-Za-z]+$/);
    assert.deepEqual(error.refusals, ["region: us-east-1 -> eu-west-1"]);
  });
});

describe("resource options", () => {
  it("queues: protected and retained when long-lived; retained only while a replacement is allowed; neither when ephemeral", () => {
    assert.deepEqual(queueStateOptions(LONG_LIVED), { protect: true, retainOnDelete: true });
    assert.deepEqual(queueStateOptions({ ephemeral: false, allowQueueReplacement: true }), {
      protect: false,
      retainOnDelete: true,
    });
    assert.deepEqual(queueStateOptions(EPHEMERAL), { protect: false, retainOnDelete: false });
  });

  it("the repository and the cluster: protected when long-lived, not when ephemeral", () => {
    assert.deepEqual(repositoryStateOptions(LONG_LIVED), { protect: true, retainOnDelete: true });
    assert.deepEqual(repositoryStateOptions(EPHEMERAL), { protect: false, retainOnDelete: false });
    assert.equal(clusterStateOptions(LONG_LIVED).deletionProtection, true);
    assert.deepEqual(clusterStateOptions(EPHEMERAL), { deletionProtection: false, transforms: [] });
  });

  it("the cluster's transform protects the EKS cluster and OIDC provider pulumi-eks creates, nothing else it creates", () => {
    // What pulumi-eks registers as the cluster component's children (pulumi/pulumi-eks nodejs/eks/cluster/cluster.ts:
    // the cluster, its OIDC provider, its security group and rules, the cluster role, the access entries).
    const children = [
      aws.eks.Cluster,
      aws.iam.OpenIdConnectProvider,
      aws.ec2.SecurityGroup,
      aws.ec2.SecurityGroupRule,
      aws.iam.Role,
      aws.iam.RolePolicyAttachment,
      aws.eks.AccessEntry,
      aws.eks.AccessPolicyAssociation,
    ].map(token);
    const protectedTypes = children.filter((type) => {
      const result = protectClusterState({
        type,
        name: "cluster-eks-child",
        custom: true,
        props: { name: "x" },
        opts: { ignoreChanges: ["bootstrapSelfManagedAddons"] },
      }) as pulumi.ResourceTransformResult | undefined;
      if (result === undefined) return false;
      assert.deepEqual(result.props, { name: "x" }, `${type}: props unchanged`);
      assert.deepEqual(
        result.opts.ignoreChanges,
        ["bootstrapSelfManagedAddons"],
        `${type}: pulumi-eks's own options kept`,
      );
      return result.opts.protect === true;
    });
    assert.deepEqual(protectedTypes, [token(aws.eks.Cluster), token(aws.iam.OpenIdConnectProvider)]);
  });
});

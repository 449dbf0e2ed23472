import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS, EKS } from "../lib/types";
import { launchTemplateImdsv2, nodeClassHardened, nodeGroupLaunchTemplate } from "../rules/nodes";
import type { RecordedResource } from "../offline/evaluate";
import { edit, resourceViolations, stackViolations } from "./harness";
import { goodResources, goodStack, LAUNCH_TEMPLATE_ID, resource } from "./fixtures/good-stack";

describe("launch-template-imdsv2", () => {
  it("passes a template requiring IMDSv2 with hop limit 1, or with IMDS disabled", async () => {
    const { launchTemplate } = goodResources();
    assert.deepEqual(await resourceViolations(launchTemplateImdsv2, launchTemplate), []);
    const disabled = edit(launchTemplate, { metadataOptions: { httpEndpoint: "disabled" } });
    assert.deepEqual(await resourceViolations(launchTemplateImdsv2, disabled), []);
  });

  it("rejects optional tokens and a hop limit of 2", async () => {
    const loose = edit(goodResources().launchTemplate, {
      "metadataOptions.httpTokens": "optional",
      "metadataOptions.httpPutResponseHopLimit": 2,
    });
    assert.deepEqual(await resourceViolations(launchTemplateImdsv2, loose), [
      `LaunchTemplate "cluster-nodes": metadataOptions.httpTokens is "optional"; set it to "required" so only IMDSv2 is served.`,
      `LaunchTemplate "cluster-nodes": metadataOptions.httpPutResponseHopLimit is 2; set it to 1 so pods cannot reach the node's instance role through IMDS.`,
    ]);
  });

  it("rejects launch configurations without metadata options", async () => {
    const configuration = resource(AWS.launchConfiguration, "legacy-nodes", { imageId: "ami-123" });
    assert.deepEqual(await resourceViolations(launchTemplateImdsv2, configuration), [
      `LaunchConfiguration "legacy-nodes": metadataOptions.httpTokens is not set; set it to "required" so only IMDSv2 is served.`,
      `LaunchConfiguration "legacy-nodes": metadataOptions.httpPutResponseHopLimit is not set; set it to 1 so pods cannot reach the node's instance role through IMDS.`,
    ]);
  });
});

describe("node-group-launch-template", () => {
  const awsNodeGroup = resource(AWS.eksNodeGroup, "workers", {
    clusterName: "c",
    launchTemplate: { id: LAUNCH_TEMPLATE_ID, version: "1" },
  });

  function withoutNodeGroup(): RecordedResource[] {
    const { nodeGroup: _dropped, ...rest } = goodResources();
    return Object.values(rest);
  }

  it("passes node groups using a launch template the stack creates (by id or name)", async () => {
    assert.deepEqual(await stackViolations(nodeGroupLaunchTemplate, goodStack()), []);
    const byName = edit(awsNodeGroup, { launchTemplate: { name: "cluster-nodes-8a9b0c1", version: "1" } });
    assert.deepEqual(await stackViolations(nodeGroupLaunchTemplate, [...withoutNodeGroup(), awsNodeGroup, byName]), []);
  });

  it("rejects a node group without a launch template", async () => {
    const bare = edit(awsNodeGroup, { launchTemplate: undefined });
    assert.deepEqual(await stackViolations(nodeGroupLaunchTemplate, [...withoutNodeGroup(), bare]), [
      {
        message: `Node group "workers" has no launch template, so EKS applies its default metadata options (hop limit 2, which lets pods reach the node's instance role); give it a launch template with metadataOptions { httpTokens: "required", httpPutResponseHopLimit: 1 }.`,
        urn: bare.urn,
      },
    ]);
  });

  it("rejects a managed node group relying on enableIMDSv2, and a launch template from outside the stack", async () => {
    const good = goodResources();
    const imdsFlag = edit(good.nodeGroup, { launchTemplate: undefined, enableIMDSv2: true });
    const foreign = edit(awsNodeGroup, { "launchTemplate.id": "lt-elsewhere" });
    assert.deepEqual(
      (
        await stackViolations(nodeGroupLaunchTemplate, [...Object.values({ ...good, nodeGroup: imdsFlag }), foreign])
      ).map((f) => f.message),
      [
        `Node group "workers" uses launch template lt-elsewhere, which this stack does not create, so its metadata options cannot be checked; create the launch template in this stack with metadataOptions { httpTokens: "required", httpPutResponseHopLimit: 1 }.`,
        `Node group "cluster-nodes" has no launch template, so EKS applies its default metadata options (hop limit 2, which lets pods reach the node's instance role); give it a launch template with metadataOptions { httpTokens: "required", httpPutResponseHopLimit: 1 } (enableIMDSv2 alone keeps hop limit 2).`,
      ],
    );
  });

  it("checks a component by its inputs only while the stack holds none of its children", async () => {
    const good = goodResources();
    const component = edit(good.nodeGroup, { launchTemplate: undefined });
    const child: RecordedResource = { ...awsNodeGroup, parent: component.urn };
    assert.deepEqual(
      await stackViolations(nodeGroupLaunchTemplate, [...Object.values({ ...good, nodeGroup: component }), child]),
      [],
    );
  });

  it("rejects self-managed @pulumi/eks node groups and a cluster's default node group", async () => {
    const good = goodResources();
    const selfManaged = resource(EKS.nodeGroupV2, "self-managed", { instanceType: "t3.medium" });
    const cluster = edit(good.cluster, { skipDefaultNodeGroup: undefined });
    assert.deepEqual(
      await stackViolations(nodeGroupLaunchTemplate, [...Object.values({ ...good, cluster }), selfManaged]),
      [
        {
          message: `Node group "self-managed" is a self-managed @pulumi/eks node group whose launch template cannot be checked before it exists; use aws.eks.NodeGroup or eks.ManagedNodeGroup with a launch template this stack creates.`,
          urn: selfManaged.urn,
        },
        {
          message: `Cluster "cluster" creates a default node group, whose launch template does not pin IMDSv2 with hop limit 1; set skipDefaultNodeGroup: true and add a node group with a launch template this stack creates.`,
          urn: cluster.urn,
        },
      ],
    );
  });
});

describe("node-class-hardened", () => {
  const nodeRoleName = () => String(goodResources().nodeRole.props["name"]);
  const autoClass = (name: string, spec: Record<string, unknown>) =>
    resource("kubernetes:eks.amazonaws.com/v1:NodeClass", name, { metadata: { name }, spec });
  const pool = (name: string, nodeClass: string, group = "eks.amazonaws.com") =>
    resource("kubernetes:karpenter.sh/v1:NodePool", name, {
      metadata: { name },
      spec: { template: { spec: { nodeClassRef: { group, kind: "NodeClass", name: nodeClass } } } },
    });

  it("passes a NodeClass on the stack's node role, NodePools on it or on Auto Mode's default", async () => {
    const stack = [
      ...goodStack(),
      autoClass("big-disk", { role: nodeRoleName(), ephemeralStorage: { size: "160Gi" } }),
      pool("arm64", "default"),
      pool("big-disk", "big-disk"),
    ];
    assert.deepEqual(await stackViolations(nodeClassHardened, stack), []);
  });

  it("rejects a foreign role, an instance profile, public IPs, IMDSv1 and a hop limit of 2", async () => {
    const foreign = autoClass("foreign", {
      role: "SomeoneElsesRole",
      advancedNetworking: { associatePublicIPAddress: true },
    });
    const karpenter = resource("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "legacy", {
      metadata: { name: "legacy" },
      spec: {
        instanceProfile: "legacy-profile",
        metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 2 },
      },
    });
    const messages = (await stackViolations(nodeClassHardened, [...goodStack(), foreign, karpenter])).map(
      (v) => v.message,
    );
    assert.deepEqual(messages, [
      `NodeClass "foreign": spec.role "SomeoneElsesRole" is not a role this stack defines, so the permissions every node (and any pod reaching IMDS) holds go unjudged; name the stack's node role.`,
      `NodeClass "foreign": gives every node a public IP address; remove associatePublicIPAddress and keep nodes in private subnets.`,
      `EC2NodeClass "legacy": spec.instanceProfile names an instance profile whose role this pack cannot see; name the stack's node role in spec.role instead.`,
      `EC2NodeClass "legacy": spec.metadataOptions.httpTokens is "optional"; remove it or set "required" so only IMDSv2 is served.`,
      `EC2NodeClass "legacy": spec.metadataOptions.httpPutResponseHopLimit is 2, so pods can reach the node's instance role through IMDS; remove it or set 1.`,
    ]);
  });

  it("rejects a NodePool on a NodeClass the stack does not define", async () => {
    const gpu = pool("gpu", "gpu");
    assert.deepEqual(await stackViolations(nodeClassHardened, [...goodStack(), gpu]), [
      {
        message: `NodePool "gpu": spec.template.spec.nodeClassRef names NodeClass "gpu", which this stack does not define, so the role, metadata options and network of its nodes go unjudged; define the NodeClass in this stack or use Auto Mode's "default".`,
        urn: gpu.urn,
      },
    ]);
  });
});

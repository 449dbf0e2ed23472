/**
 * The day-one hazards of a real `pulumi up`, under mocks: the network the cluster lives in, names that
 * would force a delete-before-replace, the identity creating the cluster listed as an admin, the image's
 * architecture in every cluster mode, borrowing by someone the platform does not list, and a renamed project.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { developerAccessNames, developerDirectory } from "../infra/developer-access";
import { DEPLOYER_ROLE_ARN, type ProgramRun } from "./helpers/mocks";
import { ORGANIZATION, assertSucceeded, named, ofType, oneOfType, runPrograms, scenario } from "./helpers/program";

const SUBNETS = {
  "subnet-0aaaaaaaaaaaaaaaa": {
    vpcId: "vpc-0123456789abcdef0",
    availabilityZone: "us-west-2a",
    availabilityZoneId: "usw2-az1",
    mapPublicIpOnLaunch: false,
  },
  "subnet-0bbbbbbbbbbbbbbbb": {
    vpcId: "vpc-0123456789abcdef0",
    availabilityZone: "us-west-2b",
    availabilityZoneId: "usw2-az2",
    mapPublicIpOnLaunch: false,
  },
  "subnet-0cccccccccccccccc": {
    vpcId: "vpc-0123456789abcdef0",
    availabilityZone: "us-west-2a",
    availabilityZoneId: "usw2-az1",
    mapPublicIpOnLaunch: true,
  },
  "subnet-0dddddddddddddddd": {
    vpcId: "vpc-0fedcba9876543210",
    availabilityZone: "us-west-2a",
    availabilityZoneId: "usw2-az1",
    mapPublicIpOnLaunch: false,
  },
};
const CLUSTER = (nodeGroups: { name: string; amiType: string; instanceTypes: string[] }[]) => ({
  nodeGroups,
  endpoint: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com",
  certificateAuthorityData: "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t",
  oidcIssuerUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
  oidcProviderArn:
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
});
const ARM_PLATFORM = `${ORGANIZATION}/sqs-eks-consumer/arm-platform`;
/** The arm-platform stack's cluster as AWS and the cluster itself show it to a borrowing stack run by `caller`. */
const ARM_BORROWED = (caller: string) => ({
  callerArn: caller,
  existingClusters: {
    "sqs-eks-consumer-arm-platform": CLUSTER([
      { name: "g", amiType: "AL2023_ARM_64_STANDARD", instanceTypes: ["m7g.large"] },
    ]),
  },
  clusterObjects: {
    "kubernetes:core/v1:ConfigMap": {
      "kube-public/sqs-eks-consumer-developers": {
        data: {
          "directory.json": JSON.stringify(
            developerDirectory(
              developerAccessNames("sqs-eks-consumer"),
              [{ person: "erin", principalArn: "arn:aws:iam::123456789012:role/erin", sessionName: undefined }],
              { pods: 4, cpuMillicores: 500, memoryMiB: 1024 },
            ),
          ),
        },
      },
    },
  },
});

let defaults: ProgramRun;
let cheap: ProgramRun;
let byo: ProgramRun;
let byoBad: ProgramRun;
let creator: ProgramRun;
let creatorLater: ProgramRun;
let armExisting: ProgramRun;
let armBorrowed: ProgramRun;
let unlisted: ProgramRun;
let renamed: ProgramRun;
let nodeGroup: ProgramRun;
let armAuto: ProgramRun;
let podIdentity: ProgramRun;

before(async () => {
  const given = {
    vpcId: "vpc-0123456789abcdef0",
    privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
  };
  [
    defaults,
    cheap,
    byo,
    byoBad,
    creator,
    creatorLater,
    armExisting,
    armBorrowed,
    unlisted,
    renamed,
    nodeGroup,
    armAuto,
    podIdentity,
  ] = (await runPrograms([
    await scenario("net", {}),
    await scenario("cheap", {
      natGateways: "single",
      availabilityZoneCount: 3,
      endpointPublicAccessCidrs: ["203.0.113.7/32"],
    }),
    await scenario("byo", given, { subnets: SUBNETS }),
    await scenario(
      "byo-bad",
      {
        ...given,
        privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"],
      },
      { subnets: SUBNETS },
    ),
    await scenario("creator", { clusterAdminPrincipalArns: [DEPLOYER_ROLE_ARN] }),
    await scenario(
      "later",
      { clusterAdminPrincipalArns: [DEPLOYER_ROLE_ARN] },
      { existingClusters: { "sqs-eks-consumer-later": CLUSTER([]) } },
    ),
    await scenario(
      "arm",
      { clusterMode: "adopt", clusterName: "graviton" },
      {
        existingClusters: {
          graviton: CLUSTER([{ name: "g", amiType: "AL2023_ARM_64_STANDARD", instanceTypes: ["m7g.large"] }]),
        },
      },
    ),
    await scenario(
      "erin",
      { clusterMode: "borrow", ephemeral: true, clusterStack: ARM_PLATFORM },
      ARM_BORROWED("arn:aws:sts::123456789012:assumed-role/erin/laptop"),
    ),
    await scenario(
      "frank",
      { clusterMode: "borrow", ephemeral: true, clusterStack: ARM_PLATFORM, imagePlatform: "linux/arm64" },
      ARM_BORROWED("arn:aws:sts::123456789012:assumed-role/frank/laptop"),
    ),
    await scenario(
      "orders",
      { clusterMode: "adopt", clusterName: "graviton", imagePlatform: "linux/arm64" },
      {
        project: "orders-consumer",
        existingClusters: {
          graviton: CLUSTER([{ name: "g", amiType: "AL2023_ARM_64_STANDARD", instanceTypes: ["m7g.large"] }]),
        },
      },
    ),
    await scenario("ng", { nodeProvisioning: "node-group" }),
    await scenario("armauto", { imagePlatform: "linux/arm64" }),
    await scenario("pi", { identity: "pod-identity" }),
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

const cidrs = (run: ProgramRun, role: "private" | "public") =>
  ofType(run, "aws:ec2/subnet:Subnet").filter((subnet) => subnet.name.startsWith(`network-${role}-`));

describe("the network of a created cluster", () => {
  it("is a VPC of its own: private node subnets routed through a NAT gateway per zone, public subnets for load balancers", () => {
    assertSucceeded(defaults);
    const vpc = oneOfType(defaults, "aws:ec2/vpc:Vpc");
    assert.deepEqual(
      [vpc.inputs.cidrBlock, vpc.inputs.enableDnsHostnames, vpc.inputs.enableDnsSupport],
      ["10.0.0.0/16", true, true],
    );
    const privateSubnets = cidrs(defaults, "private");
    const publicSubnets = cidrs(defaults, "public");
    assert.deepEqual(
      privateSubnets.map((s) => [s.inputs.cidrBlock, s.inputs.availabilityZone, s.inputs.mapPublicIpOnLaunch]),
      [
        ["10.0.0.0/19", "us-west-2a", false],
        ["10.0.32.0/19", "us-west-2b", false],
      ],
    );
    assert.deepEqual(
      publicSubnets.map((s) => s.inputs.cidrBlock),
      ["10.0.224.0/22", "10.0.228.0/22"],
    );
    for (const s of privateSubnets)
      assert.equal((s.inputs.tags as Record<string, string>)["kubernetes.io/role/internal-elb"], "1");
    for (const s of publicSubnets)
      assert.equal((s.inputs.tags as Record<string, string>)["kubernetes.io/role/elb"], "1");
    assert.equal(ofType(defaults, "aws:ec2/natGateway:NatGateway").length, 2);
    const zones = defaults.invokes.find((call) => call.token === "aws:index/getAvailabilityZones:getAvailabilityZones");
    assert.deepEqual(zones?.inputs.excludeZoneIds, ["use1-az3", "usw1-az2", "cac1-az3", "cnn1-az4"]);
  });

  it("places the cluster and the nodes in it: nodes in the private subnets, the API endpoint private unless CIDRs are listed", () => {
    const cluster = oneOfType(defaults, "eks:index:Cluster");
    const vpcId = oneOfType(defaults, "aws:ec2/vpc:Vpc").state.id;
    assert.equal(cluster.inputs.vpcId, vpcId);
    assert.deepEqual(
      cluster.inputs.privateSubnetIds,
      cidrs(defaults, "private").map((s) => s.state.id),
    );
    assert.deepEqual(
      cluster.inputs.publicSubnetIds,
      cidrs(defaults, "public").map((s) => s.state.id),
    );
    assert.deepEqual(
      [cluster.inputs.endpointPrivateAccess, cluster.inputs.endpointPublicAccess, cluster.inputs.publicAccessCidrs],
      [true, false, undefined],
    );
    assert.deepEqual(
      oneOfType(nodeGroup, "eks:index:ManagedNodeGroup").inputs.subnetIds,
      cidrs(nodeGroup, "private").map((s) => s.state.id),
    );

    assertSucceeded(cheap);
    const open = oneOfType(cheap, "eks:index:Cluster");
    assert.deepEqual(
      [open.inputs.endpointPrivateAccess, open.inputs.endpointPublicAccess, open.inputs.publicAccessCidrs],
      [true, true, ["203.0.113.7/32"]],
    );
  });

  it("with natGateways single, sends every zone through one NAT gateway", () => {
    const nat = oneOfType(cheap, "aws:ec2/natGateway:NatGateway");
    const routes = ofType(cheap, "aws:ec2/routeTable:RouteTable").filter((table) =>
      table.name.startsWith("network-private-"),
    );
    assert.equal(routes.length, 3);
    for (const table of routes)
      assert.deepEqual(table.inputs.routes, [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.state.id }]);
  });

  it("uses a given VPC as it is, after checking its subnets, and creates no network", () => {
    assertSucceeded(byo);
    assert.deepEqual(ofType(byo, "aws:ec2/vpc:Vpc"), []);
    assert.deepEqual(ofType(byo, "aws:ec2/subnet:Subnet"), []);
    const cluster = oneOfType(byo, "eks:index:Cluster");
    assert.equal(cluster.inputs.vpcId, "vpc-0123456789abcdef0");
    assert.deepEqual(cluster.inputs.privateSubnetIds, ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]);
    const [error] = byoBad.errors;
    assert.ok(error, "a subnet that gives public IPs, or is in another VPC, is refused");
    assert.match(error, /subnet-0cccccccccccccccc gives instances public IPs/);
    assert.match(error, /subnet-0dddddddddddddddd is in vpc-0fedcba9876543210, not in vpcId vpc-0123456789abcdef0/);
  });
});

describe("names that would force a delete-before-replace", () => {
  it("names the node group, its launch template and the node role by prefix, so a replacement brings the new one up first", () => {
    const nodes = oneOfType(nodeGroup, "eks:index:ManagedNodeGroup");
    assert.equal(nodes.inputs.nodeGroupName, undefined);
    assert.equal(nodes.inputs.nodeGroupNamePrefix, "sqs-eks-consumer-ng-nodes-");
    const template = oneOfType(nodeGroup, "aws:ec2/launchTemplate:LaunchTemplate");
    assert.deepEqual([template.inputs.name, template.inputs.namePrefix], [undefined, "sqs-eks-consumer-ng-nodes-"]);
    const role = named(nodeGroup, "cluster-node-role");
    assert.deepEqual([role.inputs.name, role.inputs.namePrefix], [undefined, "sqs-eks-consumer-ng-node-"]);
    const autoRole = named(defaults, "cluster-auto-node-role");
    assert.deepEqual(
      [autoRole.inputs.name, autoRole.inputs.namePrefix],
      [undefined, "sqs-eks-consumer-net-auto-node-"],
    );
  });
});

/** Managed policy ARNs attached to the role `roleName` in a run. */
function attachedPolicies(run: ProgramRun, roleName: string): string[] {
  const role = named(run, roleName);
  return ofType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    .filter((attachment) => attachment.inputs.role === role.state.name)
    .map((attachment) => String(attachment.inputs.policyArn).replace(/^arn:aws:iam::aws:policy\//, ""))
    .sort();
}

describe("nodes that follow the pods: EKS Auto Mode by default", () => {
  // The oracle, from the EKS user guide rather than the program's tables: "auto-cluster-iam-role" (the cluster
  // role's five policies, trust with sts:TagSession), "auto-create-node-role" (the node role's two), and
  // "set-builtin-node-pools" (general-purpose launches amd64 only).
  it("registers Auto Mode on the created cluster with the program's own node role, and no fixed node group", () => {
    assertSucceeded(defaults);
    const cluster = oneOfType(defaults, "eks:index:Cluster");
    const nodeRole = named(defaults, "cluster-auto-node-role");
    assert.deepEqual(cluster.inputs.autoMode, {
      enabled: true,
      createNodeRole: false,
      computeConfig: { nodeRoleArn: nodeRole.state.arn, nodePools: ["general-purpose", "system"] },
    });
    assert.deepEqual(ofType(defaults, "eks:index:ManagedNodeGroup"), []);
    assert.deepEqual(ofType(defaults, "aws:ec2/launchTemplate:LaunchTemplate"), []);
    assert.deepEqual(attachedPolicies(defaults, "cluster-cluster-role"), [
      "AmazonEKSBlockStoragePolicy",
      "AmazonEKSClusterPolicy",
      "AmazonEKSComputePolicy",
      "AmazonEKSLoadBalancingPolicy",
      "AmazonEKSNetworkingPolicy",
    ]);
    const trust = JSON.parse(String(named(defaults, "cluster-cluster-role").inputs.assumeRolePolicy)) as {
      Statement: { Action: string[] }[];
    };
    assert.deepEqual(trust.Statement[0]?.Action, ["sts:AssumeRole", "sts:TagSession"]);
    assert.deepEqual(attachedPolicies(defaults, "cluster-auto-node-role"), [
      "AmazonEC2ContainerRegistryPullOnly",
      "AmazonEKSWorkerNodeMinimalPolicy",
    ]);
    assert.deepEqual(defaults.outputs.nodeArchitectures, ["amd64"]);
  });

  it("installs none of the add-ons Auto Mode runs itself, in either identity mode, and keeps the OIDC provider", () => {
    for (const run of [defaults, podIdentity]) {
      assertSucceeded(run);
      assert.deepEqual(ofType(run, "aws:eks/addon:Addon"), []);
      const cluster = oneOfType(run, "eks:index:Cluster");
      // pulumi-eks would install vpc-cni, kube-proxy and (under Auto Mode) CoreDNS unless told not to.
      assert.equal(cluster.inputs.useDefaultVpcCni, true);
      assert.equal((cluster.inputs.kubeProxyAddonOptions as { enabled?: boolean }).enabled, false);
      assert.equal((cluster.inputs.corednsAddonOptions as { enabled?: boolean }).enabled, false);
      assert.equal(cluster.inputs.createOidcProvider, true);
    }
    assert.equal(podIdentity.outputs.podIdentityAgent, "built into EKS Auto Mode");
    assert.ok(ofType(podIdentity, "aws:eks/podIdentityAssociation:PodIdentityAssociation").length > 0);
  });

  it("gives an arm64 image a NodePool of arm64 nodes, and the pods ask for that architecture", () => {
    assertSucceeded(armAuto);
    const [pool, ...others] = ofType(armAuto, "kubernetes:karpenter.sh/v1:NodePool");
    assert.ok(pool !== undefined && others.length === 0, "one NodePool");
    const spec = pool.inputs.spec as {
      template: {
        spec: { nodeClassRef: unknown; requirements: { key: string; operator: string; values: string[] }[] };
      };
    };
    assert.deepEqual(spec.template.spec.nodeClassRef, {
      group: "eks.amazonaws.com",
      kind: "NodeClass",
      name: "default",
    });
    assert.deepEqual(
      spec.template.spec.requirements.find((requirement) => requirement.key === "kubernetes.io/arch"),
      { key: "kubernetes.io/arch", operator: "In", values: ["arm64"] },
    );
    assert.deepEqual(armAuto.outputs.nodeArchitectures, ["amd64", "arm64"]);
    const deployment = oneOfType(armAuto, "kubernetes:apps/v1:Deployment");
    const podSpec = (deployment.inputs.spec as { template: { spec: { nodeSelector: Record<string, string> } } })
      .template.spec;
    assert.equal(podSpec.nodeSelector["kubernetes.io/arch"], "arm64");
    assert.deepEqual(ofType(defaults, "kubernetes:karpenter.sh/v1:NodePool"), [], "amd64: the built-in pool serves");
  });

  it("spreads the consumer's pods across zones without ever leaving one Pending for the spread", () => {
    const deployment = oneOfType(defaults, "kubernetes:apps/v1:Deployment");
    const podSpec = (
      deployment.inputs.spec as {
        template: { spec: { topologySpreadConstraints: { topologyKey: string; whenUnsatisfiable: string }[] } };
      }
    ).template.spec;
    const zone = podSpec.topologySpreadConstraints.find((c) => c.topologyKey === "topology.kubernetes.io/zone");
    assert.equal(zone?.whenUnsatisfiable, "ScheduleAnyway");
  });

  it("with node-group, keeps the managed node group, its IMDS-blocking launch template and the pinned add-ons", () => {
    assertSucceeded(nodeGroup);
    assert.equal(oneOfType(nodeGroup, "eks:index:Cluster").inputs.autoMode, undefined);
    const template = oneOfType(nodeGroup, "aws:ec2/launchTemplate:LaunchTemplate");
    assert.deepEqual(template.inputs.metadataOptions, {
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
    });
    assert.deepEqual(
      ofType(nodeGroup, "aws:eks/addon:Addon")
        .map((addon) => addon.inputs.addonName)
        .sort(),
      ["coredns", "kube-proxy", "vpc-cni"],
    );
    assert.deepEqual(attachedPolicies(nodeGroup, "cluster-cluster-role"), ["AmazonEKSClusterPolicy"]);
    assert.deepEqual(attachedPolicies(nodeGroup, "cluster-node-role"), [
      "AmazonEC2ContainerRegistryPullOnly",
      "AmazonEKSWorkerNodePolicy",
      "AmazonEKS_CNI_Policy",
    ]);
  });
});

describe("access to a created cluster", () => {
  it("refuses an admin principal equal to the identity creating the cluster, while the cluster does not exist", () => {
    assert.ok(
      creator.errors.some((e) =>
        e.includes(`${DEPLOYER_ROLE_ARN} is the identity creating the cluster, which EKS already makes cluster admin`),
      ),
      creator.errors.join("\n"),
    );
    assertSucceeded(creatorLater);
  });

  it("refuses a borrowing stack run by someone the platform does not list as a developer, naming the fix", () => {
    assert.ok(
      unlisted.errors.some((e) =>
        e.includes(
          `arn:aws:sts::123456789012:assumed-role/frank/laptop is not among the developers of ${ARM_PLATFORM}: an administrator adds "<person>=arn:aws:iam::123456789012:role/<path>/frank session=laptop" to its developers`,
        ),
      ),
      unlisted.errors.join("\n"),
    );
  });
});

describe("imagePlatform against the nodes, in every mode", () => {
  it("adopt mode: looks the managed node groups up and refuses an amd64 image on arm64 nodes", () => {
    assert.ok(
      armExisting.errors.some((e) =>
        e.includes(
          'imagePlatform is linux/amd64, but the nodes (the managed node groups of graviton) run arm64; the pods would fail with "exec format error"',
        ),
      ),
      armExisting.errors.join("\n"),
    );
  });

  it("borrow mode: looks the platform's managed node groups up and refuses a mismatch", () => {
    assert.ok(
      armBorrowed.errors.some((e) =>
        e.includes(
          "imagePlatform is linux/amd64, but the nodes (the managed node groups of sqs-eks-consumer-arm-platform) run arm64",
        ),
      ),
      armBorrowed.errors.join("\n"),
    );
  });
});

describe("a renamed project", () => {
  it("reads its keys under its own name: clusterMode adopt is honoured, no cluster is created", () => {
    assertSucceeded(renamed);
    assert.deepEqual(ofType(renamed, "eks:index:Cluster"), []);
    assert.equal(renamed.outputs.clusterName, "graviton");
    assert.equal(named(renamed, "queue-queue").inputs.name, "orders-consumer-orders-queue");
  });
});

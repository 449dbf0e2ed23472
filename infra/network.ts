/**
 * The network a created cluster lives in, so that it never depends on the account's default VPC (which
 * accounts under Control Tower often lack, and whose subnets give every node a public IP):
 * - create: a VPC of our own, per Availability Zone one private subnet for the nodes (egress through a NAT
 *           gateway) and one public subnet for internet-facing load balancers and the NAT gateways;
 * - given:  the VPC and subnets the stack names, checked at preview: the private subnets belong to the VPC,
 *           span at least two Availability Zones, and do not give instances public IPs.
 * Subnet roles are tagged the way the AWS Load Balancer Controller discovers them
 * (https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/subnet_discovery/).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterNetworkConfig, NetworkConfig } from "./config";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";

/**
 * Zones where EKS refuses to place a cluster's subnets (UnsupportedAvailabilityZoneException), by zone ID
 * (the same physical zone in every account). Source: Amazon EKS user guide, "View Amazon EKS networking
 * requirements for VPC and subnets" (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html).
 */
export const EKS_UNSUPPORTED_ZONE_IDS = ["use1-az3", "usw1-az2", "cac1-az3", "cnn1-az4"] as const;

/** Subnet tags by role; the load balancer controller picks subnets by these. */
export const SUBNET_ROLE_TAGS = {
  public: { "kubernetes.io/role/elb": "1" },
  private: { "kubernetes.io/role/internal-elb": "1" },
} as const;

/**
 * The subnet ranges of a created VPC: private subnets of prefix p+3 (one eighth of the VPC each, in the first
 * slots, for nodes and their pods: the VPC CNI gives every pod a VPC address) and public subnets of prefix p+6
 * carved from the last eighth (load balancers and NAT gateways need few addresses).
 * @param vpcCidr IPv4 CIDR of the VPC, prefix /16 to /20 (infra/config/network.ts checks it).
 * @param zoneCount Availability Zones, 2 to 6.
 * @returns `zoneCount` private and `zoneCount` public CIDRs, index i in zone i.
 */
export function subnetCidrs(vpcCidr: string, zoneCount: number): { private: string[]; public: string[] } {
  const [address, prefixText] = vpcCidr.split("/");
  const prefix = Number(prefixText);
  const base = address!.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
  const block = (index: number, length: number) => {
    const start = base + index * 2 ** (32 - length);
    const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
    return `${octets.join(".")}/${length}`;
  };
  const zones = [...Array(zoneCount).keys()];
  return {
    private: zones.map((i) => block(i, prefix + 3)),
    public: zones.map((i) => block(7 * 8 + i, prefix + 6)),
  };
}

export interface ClusterNetworkArgs {
  /** Create a VPC or use the given one, and the endpoint's allow-list (validated by infra/config/network.ts). */
  readonly config: ClusterNetworkConfig;
  /** Project and stack: the `Name` tags start with `<project>-<stack>` (the AWS resources themselves are auto-named). */
  readonly scope: NameScope;
  /** Tags for every AWS resource created here. */
  readonly tags: Readonly<Record<string, string>>;
  /**
   * create: the Availability Zone names the last update placed the subnets in (`createdWith.availabilityZones`,
   * infra/lifecycle.ts), reused as they are; undefined on a first update, which picks the first zones by name.
   */
  readonly recordedZones?: pulumi.Input<readonly string[] | undefined>;
}

/** The created cluster's VPC and subnets (created, or the given ones checked), and who reaches its API endpoint. */
export class ClusterNetwork extends pulumi.ComponentResource {
  /** ID of the VPC. */
  readonly vpcId: pulumi.Output<string>;
  /** Subnets of the nodes, one per Availability Zone; instances there get no public IP. */
  readonly privateSubnetIds: pulumi.Output<string[]>;
  /** Subnets for internet-facing load balancers (empty when given none). */
  readonly publicSubnetIds: pulumi.Output<string[]>;
  /** CIDRs allowed to the cluster's public API endpoint; empty: the endpoint is private only. */
  readonly endpointPublicAccessCidrs: readonly string[];
  /** create: the Availability Zone names of the subnets, index i for subnet i; empty for a given VPC. */
  readonly availabilityZones: pulumi.Output<string[]>;

  constructor(name: string, args: ClusterNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:network:ClusterNetwork", name, {}, opts);
    const vpc = args.config.vpc;
    const found = vpc.mode === "create" ? this.create(name, args, vpc) : this.check(vpc);
    this.endpointPublicAccessCidrs = args.config.endpointPublicAccessCidrs;
    this.vpcId = found.vpcId;
    this.privateSubnetIds = found.privateSubnetIds;
    this.publicSubnetIds = found.publicSubnetIds;
    this.availabilityZones = found.availabilityZones ?? pulumi.output([]);
    this.registerOutputs({
      vpcId: this.vpcId,
      privateSubnetIds: this.privateSubnetIds,
      publicSubnetIds: this.publicSubnetIds,
    });
  }

  private create(
    name: string,
    args: ClusterNetworkArgs,
    config: Extract<NetworkConfig, { mode: "create" }>,
  ): FoundNetwork {
    const tagged = (suffix: string, extra: Record<string, string> = {}) => ({
      ...args.tags,
      ...extra,
      Name: `${scopedName(args.scope, "", NAME_LIMITS.eksCluster)}-${suffix}`,
    });
    const zones = aws.getAvailabilityZonesOutput(
      {
        state: "available",
        excludeZoneIds: [...EKS_UNSUPPORTED_ZONE_IDS],
        // Local Zones and Wavelength Zones are opted in; the control plane cannot use them.
        filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
      },
      { parent: this },
    );
    // A subnet's zone is fixed when it is created (`availability_zone` is ForceNew in hashicorp/terraform-provider-aws
    // internal/service/ec2/vpc_subnet.go): a zone leaving the "available" list later must not shift the others,
    // so the zones the last update used are reused as recorded, and only a first update picks them.
    const picked = pulumi.all([zones.names, args.recordedZones]).apply(([names, recorded]) =>
      // Another zone count is refused at preview (infra/lifecycle.ts, availabilityZoneCount) before any subnet changes.
      recorded !== undefined && recorded.length === config.zoneCount ? [...recorded] : [...names].sort(),
    );
    const zoneName = (index: number) =>
      pulumi.all([zones.names, picked]).apply(([names, chosen]) => {
        const zone = chosen[index];
        if (zone === undefined) {
          throw new pulumi.RunError(
            `availabilityZoneCount is ${config.zoneCount}, but this region has only ${names.length} Availability Zones EKS can use (${names.join(", ")})`,
          );
        }
        return zone;
      });

    // EKS's private endpoint and the nodes resolve each other through the VPC's DNS.
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: config.cidr, enableDnsSupport: true, enableDnsHostnames: true, tags: tagged("vpc") },
      { parent: this },
    );
    const internetGateway = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: vpc.id, tags: tagged("igw") },
      { parent: this },
    );
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }], tags: tagged("public") },
      { parent: this },
    );

    const cidrs = subnetCidrs(config.cidr, config.zoneCount);
    const zoneIndexes = [...Array(config.zoneCount).keys()];
    const publicSubnets = zoneIndexes.map((i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidrs.public[i]!,
          availabilityZone: zoneName(i),
          // Load balancers and NAT gateways get their addresses explicitly; nothing here launches instances.
          mapPublicIpOnLaunch: false,
          tags: tagged(`public-${i}`, SUBNET_ROLE_TAGS.public),
        },
        { parent: this },
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${i}`,
        { subnetId: subnet.id, routeTableId: publicRoutes.id },
        { parent: this },
      );
      return subnet;
    });

    const natCount = config.natGateways === "perZone" ? config.zoneCount : 1;
    const natGateways = zoneIndexes.slice(0, natCount).map((i) => {
      const address = new aws.ec2.Eip(
        `${name}-nat-${i}`,
        { domain: "vpc", tags: tagged(`nat-${i}`) },
        { parent: this },
      );
      return new aws.ec2.NatGateway(
        `${name}-nat-${i}`,
        {
          allocationId: address.id,
          subnetId: publicSubnets[i]!.id,
          connectivityType: "public",
          tags: tagged(`nat-${i}`),
        },
        { parent: this, dependsOn: [internetGateway] },
      );
    });

    const privateSubnets = zoneIndexes.map((i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidrs.private[i]!,
          availabilityZone: zoneName(i),
          mapPublicIpOnLaunch: false,
          tags: tagged(`private-${i}`, SUBNET_ROLE_TAGS.private),
        },
        { parent: this },
      );
      // With one NAT gateway every zone leaves through it: cheaper, but egress stops when its zone fails.
      const nat = natGateways[Math.min(i, natGateways.length - 1)]!;
      const routes = new aws.ec2.RouteTable(
        `${name}-private-${i}`,
        { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: tagged(`private-${i}`) },
        { parent: this },
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${i}`,
        { subnetId: subnet.id, routeTableId: routes.id },
        { parent: this },
      );
      return subnet;
    });

    return {
      vpcId: vpc.id,
      privateSubnetIds: pulumi.all(privateSubnets.map((subnet) => subnet.id)),
      publicSubnetIds: pulumi.all(publicSubnets.map((subnet) => subnet.id)),
      availabilityZones: pulumi.all(zoneIndexes.map(zoneName)),
    };
  }

  /** The given network, after checking what would otherwise fail late or expose the nodes. */
  private check(config: Extract<NetworkConfig, { mode: "given" }>): FoundNetwork {
    const lookups = config.privateSubnetIds.map((id) => aws.ec2.getSubnetOutput({ id }, { parent: this }));
    const privateSubnetIds = pulumi.all(lookups).apply((subnets) => {
      const problems: string[] = [];
      for (const subnet of subnets) {
        if (subnet.vpcId !== config.vpcId)
          problems.push(`${subnet.id} is in ${subnet.vpcId}, not in vpcId ${config.vpcId}`);
        if (subnet.mapPublicIpOnLaunch)
          problems.push(`${subnet.id} gives instances public IPs (MapPublicIpOnLaunch); nodes must be private`);
        if ((EKS_UNSUPPORTED_ZONE_IDS as readonly string[]).includes(subnet.availabilityZoneId)) {
          problems.push(`${subnet.id} is in ${subnet.availabilityZoneId}, where EKS cannot place a cluster`);
        }
      }
      const zones = new Set(subnets.map((subnet) => subnet.availabilityZone));
      if (zones.size < 2)
        problems.push(`the private subnets span ${zones.size} Availability Zone(s); EKS needs at least two`);
      if (problems.length > 0) throw new pulumi.RunError(`privateSubnetIds: ${problems.join("; ")}`);
      return subnets.map((subnet) => subnet.id);
    });
    return {
      vpcId: pulumi.output(config.vpcId),
      privateSubnetIds,
      publicSubnetIds: pulumi.output([...config.publicSubnetIds]),
    };
  }
}

interface FoundNetwork {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly availabilityZones?: pulumi.Output<string[]>;
}

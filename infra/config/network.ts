/**
 * The network concern (NETWORK_KEYS), create mode only: the VPC the cluster lives in (created, or given by
 * `vpcId` and subnet IDs) and who may reach its API endpoint. The safe choice is the default: a VPC of our
 * own with private nodes and a NAT gateway per zone, and no public endpoint unless CIDRs are listed.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import { checkEnum, type ConfigInput } from "./parse";

export const NAT_GATEWAY_MODES = ["perZone", "single"] as const;
export type NatGatewayMode = (typeof NAT_GATEWAY_MODES)[number];

export type NetworkConfig =
  | {
      readonly mode: "create";
      /** IPv4 CIDR of the VPC, /16 to /20. */
      readonly cidr: string;
      /** Availability Zones, each with a private and a public subnet. */
      readonly zoneCount: number;
      readonly natGateways: NatGatewayMode;
    }
  | {
      readonly mode: "given";
      readonly vpcId: string;
      /** The nodes' subnets. */
      readonly privateSubnetIds: readonly string[];
      /** Subnets for internet-facing load balancers; may be empty. */
      readonly publicSubnetIds: readonly string[];
    };

/** The created cluster's network and API endpoint access. */
export interface ClusterNetworkConfig {
  readonly vpc: NetworkConfig;
  /** CIDRs allowed to the public API endpoint; empty: the endpoint is private only. */
  readonly endpointPublicAccessCidrs: readonly string[];
}

const VPC_ID_PATTERN = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID_PATTERN = /^subnet-[0-9a-f]{8,17}$/;
const MIN_VPC_PREFIX = 16;
const MAX_VPC_PREFIX = 20;

/** The parts of an IPv4 CIDR, or undefined when the text is not one with the address aligned to its prefix. */
export function parseCidr(text: string): { address: number; prefix: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  if (address % 2 ** (32 - prefix) !== 0) return undefined;
  return { address, prefix };
}

/** The network, or undefined outside create mode (its keys are then rejected with the other keys of another mode: applies-when.ts). */
export function readNetwork(input: ConfigInput, problems: SettingProblem[]): ClusterNetworkConfig | undefined {
  if (input.values.clusterMode !== "create") return undefined;
  const vpc = input.values.vpcId === "" ? readCreatedVpc(input, problems) : readGivenVpc(input, problems);
  const endpointPublicAccessCidrs = input.values.endpointPublicAccessCidrs;
  const reasons: string[] = [];
  const badCidrs = endpointPublicAccessCidrs.filter((cidr) => parseCidr(cidr) === undefined);
  if (badCidrs.length > 0) {
    reasons.push(
      `not IPv4 CIDRs with the address aligned to the prefix (e.g. 203.0.113.7/32): ${badCidrs.map((cidr) => JSON.stringify(cidr)).join(", ")}`,
    );
  }
  const reserved = endpointPublicAccessCidrs.flatMap((cidr) => {
    const block = reservedBlockOf(cidr);
    return block === undefined ? [] : [`${cidr} is within ${block.cidr} (${block.name})`];
  });
  if (reserved.length > 0) reasons.push(`EKS refuses reserved addresses: ${reserved.join(", ")}`);
  if (endpointPublicAccessCidrs.length > MAX_PUBLIC_ACCESS_CIDRS) {
    reasons.push(
      `${endpointPublicAccessCidrs.length} CIDRs, but EKS allows at most ${MAX_PUBLIC_ACCESS_CIDRS} per cluster (not adjustable); run pulumi from inside the VPC instead (docs/DEPLOY.md, "Where pulumi runs")`,
    );
  }
  if (reasons.length > 0) problems.push({ key: input.key("endpointPublicAccessCidrs"), reason: reasons.join("; ") });
  return vpc === undefined ? undefined : { vpc, endpointPublicAccessCidrs };
}

/**
 * The most CIDRs a cluster's public endpoint accepts: the EKS service quota "Public endpoint access CIDR
 * ranges per cluster", 40, not adjustable (AWS General Reference, "Amazon EKS endpoints and quotas").
 */
export const MAX_PUBLIC_ACCESS_CIDRS = 40;

/**
 * Blocks the public endpoint refuses: "The block cannot include reserved addresses" (EKS user guide,
 * "Cluster API server endpoint", linking the IANA special-purpose registry as Wikipedia lists it). These are
 * the IPv4 special-purpose blocks no client on the internet can come from. The documentation blocks
 * (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are not among them: EKS's own examples use 203.0.113.5/32.
 */
export const RESERVED_IPV4_BLOCKS: readonly { readonly cidr: string; readonly name: string }[] = [
  { cidr: "0.0.0.0/8", name: "this network" },
  { cidr: "10.0.0.0/8", name: "private" },
  { cidr: "100.64.0.0/10", name: "shared address space" },
  { cidr: "127.0.0.0/8", name: "loopback" },
  { cidr: "169.254.0.0/16", name: "link-local" },
  { cidr: "172.16.0.0/12", name: "private" },
  { cidr: "192.0.0.0/24", name: "IETF protocol assignments" },
  { cidr: "192.88.99.0/24", name: "6to4 relay anycast" },
  { cidr: "192.168.0.0/16", name: "private" },
  { cidr: "198.18.0.0/15", name: "benchmarking" },
  { cidr: "224.0.0.0/4", name: "multicast" },
  { cidr: "240.0.0.0/4", name: "reserved" },
];

/** The reserved block a CIDR lies within (0.0.0.0/0 lies within none), or undefined. */
export function reservedBlockOf(cidr: string): { readonly cidr: string; readonly name: string } | undefined {
  const parsed = parseCidr(cidr);
  if (parsed === undefined) return undefined;
  return RESERVED_IPV4_BLOCKS.find((block) => {
    const reserved = parseCidr(block.cidr)!;
    const size = 2 ** (32 - reserved.prefix);
    return parsed.prefix >= reserved.prefix && Math.floor(parsed.address / size) * size === reserved.address;
  });
}

function readCreatedVpc(input: ConfigInput, problems: SettingProblem[]): NetworkConfig | undefined {
  const before = problems.length;
  const cidr = input.values.vpcCidr;
  const parsed = parseCidr(cidr);
  if (parsed === undefined || parsed.prefix < MIN_VPC_PREFIX || parsed.prefix > MAX_VPC_PREFIX) {
    problems.push({
      key: input.key("vpcCidr"),
      reason: `must be an IPv4 CIDR from /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX} (e.g. 10.0.0.0/16), got "${cidr}"`,
    });
  }
  const natGateways = checkEnum(input, "natGateways", input.values.natGateways, NAT_GATEWAY_MODES, problems);
  if (problems.length > before || natGateways === undefined) return undefined;
  return { mode: "create", cidr, zoneCount: input.values.availabilityZoneCount, natGateways };
}

function readGivenVpc(input: ConfigInput, problems: SettingProblem[]): NetworkConfig | undefined {
  const before = problems.length;
  const { vpcId, privateSubnetIds, publicSubnetIds } = input.values;
  if (!VPC_ID_PATTERN.test(vpcId))
    problems.push({
      key: input.key("vpcId"),
      reason: `must be a VPC ID such as vpc-0123456789abcdef0, got "${vpcId}"`,
    });
  if (privateSubnetIds.length < 2) {
    problems.push({
      key: input.key("privateSubnetIds"),
      reason: "with vpcId, list the nodes' private subnets, at least two, in different Availability Zones",
    });
  }
  for (const key of ["privateSubnetIds", "publicSubnetIds"] as const) {
    const bad = input.values[key].filter((id) => !SUBNET_ID_PATTERN.test(id));
    if (bad.length > 0)
      problems.push({
        key: input.key(key),
        reason: `not subnet IDs: ${bad.map((id) => JSON.stringify(id)).join(", ")}`,
      });
  }
  const shared = privateSubnetIds.filter((id) => publicSubnetIds.includes(id));
  if (shared.length > 0)
    problems.push({ key: input.key("publicSubnetIds"), reason: `also listed as private: ${shared.join(", ")}` });
  if (problems.length > before) return undefined;
  return { mode: "given", vpcId, privateSubnetIds, publicSubnetIds };
}

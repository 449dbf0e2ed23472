/**
 * Whether a client can open a connection to an EKS cluster's API endpoint, by the rules of the EKS user
 * guide, "Cluster API server endpoint" (awsdocs/amazon-eks-user-guide latest/ug/clusters/cluster-endpoint.adoc):
 * - the private endpoint answers only inside the cluster's VPC, and only if the VPC has `enableDnsSupport`
 *   and `enableDnsHostnames` (the endpoint's name resolves through a private hosted zone EKS associates
 *   with the VPC), and the control plane's security group admits the client on TCP 443;
 * - the public endpoint answers only when enabled, and then only the listed CIDRs (at most 40, no reserved
 *   ranges). A GitHub-hosted runner has no address that can be listed: GitHub publishes thousands of ranges
 *   and advises against allow-listing them (GitHub docs, "About GitHub-hosted runners", IP addresses).
 * And whether a client in the VPC can reach GitHub to take its jobs: its subnet routes 0.0.0.0/0 to a NAT
 * gateway (VPC user guide, "NAT gateways"; the runner's network interfaces get no public address).
 */

/** The cluster side. */
export interface Endpoint {
  readonly privateAccess: boolean;
  readonly publicAccess: boolean;
  readonly publicAccessCidrs: readonly string[];
  readonly vpcId: string;
  /** The VPC's DNS attributes; undefined when the VPC is not the program's (not known from the record). */
  readonly vpcDns: { readonly support: boolean; readonly hostnames: boolean } | undefined;
  /** Security groups on the control plane's network interfaces. */
  readonly controlPlaneSecurityGroups: readonly string[];
}

/** A security group rule that admits traffic into `securityGroupId`. */
export interface IngressRule {
  readonly securityGroupId: string;
  readonly fromSecurityGroupId?: string;
  readonly cidr?: string;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
}

export type Client =
  | { readonly kind: "github-hosted" }
  | {
      readonly kind: "vpc";
      readonly vpcId: string;
      readonly subnetIds: readonly string[];
      readonly securityGroupIds: readonly string[];
    };

export interface Verdict {
  readonly reaches: boolean;
  readonly why: string;
}

/** Whether `client` reaches `endpoint`'s Kubernetes API on 443, given the ingress rules that exist. */
export function reachesApi(client: Client, endpoint: Endpoint, rules: readonly IngressRule[]): Verdict {
  if (client.kind === "github-hosted") {
    if (!endpoint.publicAccess)
      return { reaches: false, why: "the public endpoint is off and a GitHub-hosted runner is outside the VPC" };
    if (endpoint.publicAccessCidrs.length === 0 || endpoint.publicAccessCidrs.includes("0.0.0.0/0"))
      return { reaches: true, why: "the public endpoint answers every address" };
    return {
      reaches: false,
      why: "the public endpoint answers listed CIDRs only, and GitHub-hosted runners' addresses cannot be listed",
    };
  }
  if (!endpoint.privateAccess) return { reaches: false, why: "the private endpoint is off" };
  if (client.vpcId !== endpoint.vpcId)
    return { reaches: false, why: `the client is in ${client.vpcId}, the cluster in ${endpoint.vpcId}` };
  if (endpoint.vpcDns !== undefined && !(endpoint.vpcDns.support && endpoint.vpcDns.hostnames))
    return {
      reaches: false,
      why: "the VPC lacks enableDnsSupport or enableDnsHostnames: the private endpoint's name does not resolve",
    };
  const admits = rules.some(
    (rule) =>
      endpoint.controlPlaneSecurityGroups.includes(rule.securityGroupId) &&
      (rule.protocol === "tcp" || rule.protocol === "-1") &&
      rule.fromPort <= 443 &&
      443 <= rule.toPort &&
      rule.fromSecurityGroupId !== undefined &&
      client.securityGroupIds.includes(rule.fromSecurityGroupId),
  );
  if (!admits)
    return {
      reaches: false,
      why: "no rule of the control plane's security groups admits the client's security group on TCP 443",
    };
  return {
    reaches: true,
    why: "inside the VPC, DNS resolves the private endpoint, the control plane admits the client on 443",
  };
}

/** A route table: its routes to 0.0.0.0/0 and the subnets associated with it. */
export interface RouteTable {
  readonly id: string;
  readonly defaultRoute: { readonly natGatewayId?: string; readonly gatewayId?: string } | undefined;
  readonly subnetIds: readonly string[];
}

/** Whether every subnet of a VPC client leaves for the internet through a NAT gateway. */
export function reachesInternet(client: Client, tables: readonly RouteTable[]): Verdict {
  if (client.kind === "github-hosted") return { reaches: true, why: "GitHub-hosted" };
  const without = client.subnetIds.filter(
    (subnet) =>
      !tables.some((table) => table.subnetIds.includes(subnet) && table.defaultRoute?.natGatewayId !== undefined),
  );
  return without.length === 0
    ? { reaches: true, why: "every subnet routes 0.0.0.0/0 to a NAT gateway" }
    : { reaches: false, why: `no NAT route from ${without.join(", ")}` };
}

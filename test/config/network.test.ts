import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCidr } from "../../infra/config/network";
import { subnetCidrs } from "../../infra/network";
import { k, problems, valid } from "./helpers";

describe("parseStackConfig: the network", () => {
  it("creates a VPC of its own by default: two zones, a NAT gateway per zone, no public API endpoint", () => {
    assert.deepEqual(valid({}).network, {
      vpc: { mode: "create", cidr: "10.0.0.0/16", zoneCount: 2, natGateways: "perZone" },
      endpointPublicAccessCidrs: [],
    });
    const cheap = valid({
      [k("natGateways")]: "single",
      [k("availabilityZoneCount")]: "3",
      [k("endpointPublicAccessCidrs")]: '["203.0.113.7/32"]',
    });
    assert.deepEqual(cheap.network, {
      vpc: { mode: "create", cidr: "10.0.0.0/16", zoneCount: 3, natGateways: "single" },
      endpointPublicAccessCidrs: ["203.0.113.7/32"],
    });
  });

  it("uses a given VPC with its private and public subnets", () => {
    const given = valid({
      [k("vpcId")]: "vpc-0123456789abcdef0",
      [k("privateSubnetIds")]: '["subnet-0aaaaaaaaaaaaaaaa","subnet-0bbbbbbbbbbbbbbbb"]',
      [k("publicSubnetIds")]: '["subnet-0cccccccccccccccc"]',
    });
    assert.deepEqual(given.network?.vpc, {
      mode: "given",
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
      publicSubnetIds: ["subnet-0cccccccccccccccc"],
    });
  });

  it("names every bad network key", () => {
    const created = problems({
      [k("vpcCidr")]: "10.0.0.1/16",
      [k("natGateways")]: "none",
      [k("privateSubnetIds")]: '["subnet-0aaaaaaaaaaaaaaaa"]',
      [k("endpointPublicAccessCidrs")]: '["0.0.0.0/33","my laptop"]',
    });
    assert.match(created.get(k("vpcCidr"))!, /IPv4 CIDR from \/16 to \/20/);
    assert.match(created.get(k("natGateways"))!, /must be one of perZone, single/);
    assert.match(created.get(k("privateSubnetIds"))!, /applies only when vpcId is set \(this stack's vpcId is empty\)/);
    assert.match(created.get(k("endpointPublicAccessCidrs"))!, /"0\.0\.0\.0\/33", "my laptop"/);
    const given = problems({
      [k("vpcId")]: "default",
      [k("privateSubnetIds")]: '["subnet-0aaaaaaaaaaaaaaaa"]',
      [k("natGateways")]: "single",
    });
    assert.match(given.get(k("vpcId"))!, /must be a VPC ID/);
    assert.match(given.get(k("privateSubnetIds"))!, /at least two/);
    assert.match(given.get(k("natGateways"))!, /applies only when vpcId is empty \(this stack's vpcId is default\)/);
  });

  it("belongs to create mode: a borrowing stack that sets it is told to remove it", () => {
    const stack = problems({
      [k("clusterMode")]: "borrow",
      [k("clusterStack")]: "acme/sqs-eks-consumer/shared",
      [k("endpointPublicAccessCidrs")]: '["203.0.113.7/32"]',
    });
    assert.match(stack.get(k("endpointPublicAccessCidrs"))!, /applies only when clusterMode is create/);
    assert.equal(valid({ [k("clusterMode")]: "adopt", [k("clusterName")]: "platform" }).network, undefined);
  });

  it("splits the VPC into large private subnets and small public ones, without overlap", () => {
    assert.deepEqual(subnetCidrs("10.0.0.0/16", 3), {
      private: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
      public: ["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"],
    });
    const { private: priv, public: pub } = subnetCidrs("172.16.16.0/20", 6);
    const ranges = [...priv, ...pub].map((cidr) => {
      const { address, prefix } = parseCidr(cidr)!;
      return [address, address + 2 ** (32 - prefix)] as const;
    });
    const vpc = parseCidr("172.16.16.0/20")!;
    for (const [i, [start, end]] of ranges.entries()) {
      assert.ok(start >= vpc.address && end <= vpc.address + 2 ** 12, `${[...priv, ...pub][i]} is outside the VPC`);
      for (const [other, [s2, e2]] of ranges.entries())
        if (other !== i) assert.ok(end <= s2 || e2 <= start, "subnets overlap");
    }
  });
});

/**
 * What the APIs would refuse later is refused at preview, naming the key: EKS's 40 public-endpoint CIDRs and
 * its reserved ranges; KEDA's and the HPA's 3,600 s cap on the scale-down window, which the termination
 * grace period sets; and the keys that give CI its cluster access, pin the add-ons and bound the roles.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MAX_PUBLIC_ACCESS_CIDRS,
  MAX_SCALE_DOWN_STABILIZATION_SECONDS,
  RESERVED_IPV4_BLOCKS,
} from "../../infra/config";
import { k, problems, valid } from "./helpers";

const cidrs = (list: readonly string[]) => ({ [k("endpointPublicAccessCidrs")]: JSON.stringify(list) });
const ADMIN = "arn:aws:iam::123456789012:role/platform-admins";
const DEPLOY = "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-deploy";
const PREVIEW = "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-preview";

describe("endpointPublicAccessCidrs against EKS's limits", () => {
  const addresses = (n: number) =>
    Array.from({ length: n }, (_, i) => `203.0.${Math.floor(i / 250)}.${(i % 250) + 1}/32`);

  it(`accepts ${MAX_PUBLIC_ACCESS_CIDRS} CIDRs and refuses one more, naming the key`, () => {
    assert.equal(MAX_PUBLIC_ACCESS_CIDRS, 40);
    assert.deepEqual(valid(cidrs(addresses(40))).network?.endpointPublicAccessCidrs.length, 40);
    assert.match(
      problems(cidrs(addresses(41))).get(k("endpointPublicAccessCidrs")) ?? "",
      /41 CIDRs, but EKS allows at most 40 per cluster/,
    );
  });

  it("refuses reserved ranges, each named with its block, and accepts public and documentation addresses", () => {
    const reason = problems(cidrs(["10.1.0.0/16", "192.168.7.9/32", "100.64.0.1/32", "8.8.8.8/32"])).get(
      k("endpointPublicAccessCidrs"),
    );
    assert.match(reason ?? "", /10\.1\.0\.0\/16 is within 10\.0\.0\.0\/8 \(private\)/);
    assert.match(reason ?? "", /192\.168\.7\.9\/32 is within 192\.168\.0\.0\/16/);
    assert.match(reason ?? "", /100\.64\.0\.1\/32 is within 100\.64\.0\.0\/10 \(shared address space\)/);
    assert.doesNotMatch(reason ?? "", /8\.8\.8\.8/);
    for (const ok of [["0.0.0.0/0"], ["203.0.113.5/32"], ["52.95.110.1/32", "198.51.100.0/24"]])
      assert.deepEqual(valid(cidrs(ok)).network?.endpointPublicAccessCidrs, ok);
    // Every reserved block is refused as itself and as an address inside it.
    for (const block of RESERVED_IPV4_BLOCKS)
      assert.ok(problems(cidrs([block.cidr])).has(k("endpointPublicAccessCidrs")), block.cidr);
  });
});

describe("the scale-down window the termination grace period sets, against the CRD's cap", () => {
  const keda = (shutdownBudgetSeconds: number, extra: Record<string, string> = {}) => ({
    [k("autoscaling")]: "keda",
    [k("consumer")]: JSON.stringify({ shutdownBudgetSeconds, handlerTimeoutSeconds: 60 }),
    ...extra,
  });

  it("accepts a grace period of exactly 3,600 s and refuses one second more, naming consumer.shutdownBudgetSeconds", () => {
    assert.equal(MAX_SCALE_DOWN_STABILIZATION_SECONDS, 3600);
    const atCap = valid(keda(3_590)).autoscaling;
    assert.ok(atCap.enabled);
    assert.equal(atCap.scaleDownStabilizationSeconds, 3_600);
    assert.match(
      problems(keda(3_591)).get(k("consumer.shutdownBudgetSeconds")) ?? "",
      /3591 s gives a termination grace period of 3601 s.*at most 3600 s.*keep it at most 3590 s/,
    );
  });

  it("does not limit the budget without autoscaling: no window exists", () => {
    assert.equal(
      valid({ [k("consumer")]: JSON.stringify({ shutdownBudgetSeconds: 3_600, handlerTimeoutSeconds: 60 }) }).tunables
        .shutdownBudgetSeconds,
      3_600,
    );
  });
});

describe("the CI roles' cluster access", () => {
  it("takes a role for each, with its own entry", () => {
    const config = valid({ [k("ciDeployRoleArn")]: DEPLOY, [k("ciPreviewRoleArn")]: PREVIEW });
    assert.ok(config.cluster.mode === "create");
    assert.deepEqual(config.cluster.ci, { deployRoleArn: DEPLOY, previewRoleArn: PREVIEW });
  });

  it("refuses a user, an admin, a developer, or one role for both, naming the key (EKS gives a principal one entry)", () => {
    assert.match(
      problems({ [k("ciDeployRoleArn")]: "arn:aws:iam::123456789012:user/ci" }).get(k("ciDeployRoleArn")) ?? "",
      /must be an IAM role ARN/,
    );
    assert.match(
      problems({ [k("ciDeployRoleArn")]: ADMIN, [k("clusterAdminPrincipalArns")]: JSON.stringify([ADMIN]) }).get(
        k("ciDeployRoleArn"),
      ) ?? "",
      /also in clusterAdminPrincipalArns/,
    );
    assert.match(
      problems({
        [k("ciPreviewRoleArn")]: PREVIEW,
        [k("developers")]: JSON.stringify([`alice=${PREVIEW}`]),
      }).get(k("ciPreviewRoleArn")) ?? "",
      /also developer "alice" in developers/,
    );
    assert.match(
      problems({ [k("ciDeployRoleArn")]: DEPLOY, [k("ciPreviewRoleArn")]: DEPLOY }).get(k("ciPreviewRoleArn")) ?? "",
      /is ciDeployRoleArn too/,
    );
  });
});

describe("add-on pins and the roles' permissions boundary", () => {
  it("takes EKS add-on versions as EKS spells them, and refuses anything else naming the key", () => {
    const nodeGroup = { [k("nodeProvisioning")]: "node-group" };
    const config = valid({ ...nodeGroup, [k("kubeProxyAddonVersion")]: "v1.34.1-eksbuild.2" });
    assert.ok(config.cluster.mode === "create");
    assert.equal(config.cluster.addonVersions.kubeProxy, "v1.34.1-eksbuild.2");
    assert.equal(config.cluster.addonVersions.vpcCni, undefined);
    assert.match(
      problems({ ...nodeGroup, [k("corednsAddonVersion")]: "latest" }).get(k("corednsAddonVersion")) ?? "",
      /EKS add-on version/,
    );
    assert.match(
      problems({ ...nodeGroup, [k("podIdentityAgentAddonVersion")]: "v1.3.4-eksbuild.1" }).get(
        k("podIdentityAgentAddonVersion"),
      ) ?? "",
      /applies only when identity is pod-identity/,
    );
    // Under EKS Auto Mode none of the four is installed: each pin is refused, naming it.
    for (const key of ["vpcCniAddonVersion", "kubeProxyAddonVersion", "corednsAddonVersion"]) {
      assert.match(problems({ [k(key)]: "v1.34.1-eksbuild.2" }).get(k(key)) ?? "", /nodeProvisioning is node-group/);
    }
    assert.match(
      problems({ [k("identity")]: "pod-identity", [k("podIdentityAgentAddonVersion")]: "v1.3.4-eksbuild.1" }).get(
        k("podIdentityAgentAddonVersion"),
      ) ?? "",
      /EKS Auto Mode runs the Pod Identity agent itself/,
    );
  });

  it("takes a managed policy ARN as the boundary, in every cluster mode, and refuses anything else", () => {
    const boundary = "arn:aws:iam::123456789012:policy/sqs-eks-consumer-role-boundary";
    assert.equal(valid({ [k("rolePermissionsBoundary")]: boundary }).identity.permissionsBoundary, boundary);
    assert.equal(
      valid({
        [k("rolePermissionsBoundary")]: boundary,
        [k("clusterMode")]: "borrow",
        [k("clusterStack")]: "acme/sqs-eks-consumer/shared",
        [k("ephemeral")]: "true",
      }).identity.permissionsBoundary,
      boundary,
    );
    assert.match(
      problems({ [k("rolePermissionsBoundary")]: "arn:aws:iam::aws:policy/AdministratorAccess" }).get(
        k("rolePermissionsBoundary"),
      ) ?? "",
      /IAM managed policy ARN/,
    );
  });
});

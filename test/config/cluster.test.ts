/** The cluster concern (infra/config/cluster.ts): mode, created cluster's nodes and users, image platform, identity mode. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { instanceArchitecture } from "../../infra/config";
import { k, problems, valid } from "./helpers";

/** A created cluster with a managed node group, whose node keys then apply. */
const NODE_GROUP = { [k("nodeProvisioning")]: "node-group" };

describe("parseStackConfig: the cluster", () => {
  it("reads borrow mode and adopt mode", () => {
    assert.deepEqual(
      valid({
        [k("clusterMode")]: "borrow",
        [k("clusterStack")]: "acme/sqs-eks-consumer/shared",
        [k("ephemeral")]: "true",
      }).cluster,
      {
        mode: "borrow",
        clusterStack: "acme/sqs-eks-consumer/shared",
        ttlHours: 72,
        requireOidcProvider: true,
      },
    );
    assert.deepEqual(valid({ [k("clusterMode")]: "adopt", [k("clusterName")]: "platform-prod" }).cluster, {
      mode: "adopt",
      clusterName: "platform-prod",
      requireOidcProvider: true,
    });
  });

  it("refuses the modes' former names, naming the new one, so a stack file that still says them never gets another mode", () => {
    assert.equal(
      problems({ [k("clusterMode")]: "stack", [k("clusterStack")]: "acme/sqs-eks-consumer/shared" }).get(
        k("clusterMode"),
      ),
      '"stack" is now called borrow: pulumi config set clusterMode borrow',
    );
    const adopting = problems({ [k("clusterMode")]: "existing", [k("clusterName")]: "platform-prod" });
    assert.deepEqual([...adopting.keys()], [k("clusterMode")]);
    assert.equal(adopting.get(k("clusterMode")), '"existing" is now called adopt: pulumi config set clusterMode adopt');
  });

  it("requires clusterStack in borrow mode, in the <organization>/<project>/<stack> form, naming another stack of this project", () => {
    const stack = (clusterStack: string) =>
      problems({ [k("clusterMode")]: "borrow", [k("clusterStack")]: clusterStack }).get(k("clusterStack"))!;
    assert.match(
      problems({ [k("clusterMode")]: "borrow" }).get(k("clusterStack"))!,
      /required when clusterMode is borrow/,
    );
    assert.match(stack("shared"), /must be <organization>\/sqs-eks-consumer\/<stack>/);
    assert.match(stack("acme/other-project/shared"), /must name a stack of this project/);
    assert.match(stack("acme/sqs-eks-consumer/dev"), /cannot borrow its own cluster/);
  });

  it("requires clusterName in adopt mode", () => {
    assert.match(
      problems({ [k("clusterMode")]: "adopt" }).get(k("clusterName"))!,
      /required when clusterMode is adopt/,
    );
    assert.match(
      problems({ [k("clusterMode")]: "adopt", [k("clusterName")]: "bad name!" }).get(k("clusterName"))!,
      /not an EKS cluster name/,
    );
  });

  it("rejects keys of another cluster mode, so a stale setting never passes silently", () => {
    const stackMode = problems({
      [k("clusterMode")]: "borrow",
      [k("clusterStack")]: "acme/sqs-eks-consumer/shared",
      [k("ephemeral")]: "true",
      [k("nodeInstanceType")]: "m7i.large",
      [k("nodeMaxCount")]: "10",
      [k("clusterName")]: "platform-prod",
    });
    assert.deepEqual([...stackMode.keys()].sort(), [k("clusterName"), k("nodeInstanceType"), k("nodeMaxCount")].sort());
    assert.match(
      stackMode.get(k("nodeInstanceType"))!,
      /applies only when clusterMode is create \(this stack's clusterMode is borrow\)/,
    );
    assert.match(stackMode.get(k("clusterName"))!, /applies only when clusterMode is adopt/);
    const createMode = problems({ [k("clusterStack")]: "acme/sqs-eks-consumer/shared" });
    assert.match(createMode.get(k("clusterStack"))!, /applies only when clusterMode is borrow/);
  });

  it("checks the node group: counts in order, a real instance type, its architecture matching the image", () => {
    const counts = problems({
      ...NODE_GROUP,
      [k("nodeMinCount")]: "3",
      [k("nodeDesiredCount")]: "1",
      [k("nodeMaxCount")]: "2",
    });
    assert.match(counts.get(k("nodeMinCount"))!, /above nodeMaxCount \(2\)/);
    assert.match(counts.get(k("nodeDesiredCount"))!, /outside nodeMinCount\.\.nodeMaxCount \(3\.\.2\)/);
    assert.match(
      problems({ ...NODE_GROUP, [k("nodeInstanceType")]: "large" }).get(k("nodeInstanceType"))!,
      /EC2 instance type/,
    );
    assert.match(
      problems({ ...NODE_GROUP, [k("nodeInstanceType")]: "m7g.large" }).get(k("nodeInstanceType"))!,
      /m7g\.large is arm64 but imagePlatform is linux\/amd64/,
    );
    assert.match(
      problems({ ...NODE_GROUP, [k("imagePlatform")]: "linux/arm64" }).get(k("nodeInstanceType"))!,
      /t3\.medium is amd64 but imagePlatform is linux\/arm64/,
    );
    // Under EKS Auto Mode an arm64 image gets a NodePool of its architecture (infra/cluster.ts): no node key to check.
    assert.ok(valid({ [k("imagePlatform")]: "linux/arm64" }).imagePlatform === "linux/arm64");
    assert.match(
      problems({ [k("imagePlatform")]: "windows/amd64" }).get(k("imagePlatform"))!,
      /one of linux\/amd64, linux\/arm64/,
    );
    assert.match(
      problems({ ...NODE_GROUP, [k("kubernetesVersion")]: "latest" }).get(k("kubernetesVersion"))!,
      /must look like 1\.34/,
    );
  });
});

describe("parseStackConfig: the created cluster's version", () => {
  it("leaves the Kubernetes version unpinned by default, and checks a pinned one", () => {
    const config = valid({});
    assert.ok(config.cluster.mode === "create");
    assert.equal(config.cluster.kubernetesVersion, undefined);
    const pinned = valid({ [k("kubernetesVersion")]: "1.34" });
    assert.ok(pinned.cluster.mode === "create");
    assert.equal(pinned.cluster.kubernetesVersion, "1.34");
    assert.match(problems({ [k("kubernetesVersion")]: "latest" }).get(k("kubernetesVersion"))!, /must look like 1\.34/);
  });
});

describe("parseStackConfig: node provisioning", () => {
  it("reads an unset nodeProvisioning as Auto Mode, and says it was unset (the state guard asks older stacks to set it)", () => {
    const unset = valid({});
    assert.ok(unset.cluster.mode === "create");
    assert.equal(unset.cluster.nodeProvisioning, "auto-mode");
    assert.equal(unset.cluster.nodeProvisioningSet, false);
    const set = valid({ [k("nodeProvisioning")]: "auto-mode" });
    assert.ok(set.cluster.mode === "create");
    assert.equal(set.cluster.nodeProvisioningSet, true);
    assert.match(
      problems({ [k("nodeProvisioning")]: "karpenter" }).get(k("nodeProvisioning"))!,
      /must be one of auto-mode, node-group, auto-mode-with-node-group/,
    );
  });

  it("while moving to Auto Mode, keeps the node keys and asks for vpc-cni and kube-proxy pinned at Auto Mode's minimums", () => {
    const both = { [k("nodeProvisioning")]: "auto-mode-with-node-group", [k("nodeDesiredCount")]: "3" };
    // EKS user guide, "Enable EKS Auto Mode on an existing cluster", "Required add-on versions".
    const unpinned = problems(both);
    assert.deepEqual([...unpinned.keys()].sort(), [k("kubeProxyAddonVersion"), k("vpcCniAddonVersion")]);
    assert.match(unpinned.get(k("vpcCniAddonVersion"))!, /^must be pinned .*v1\.19\.0-eksbuild\.1 or later/);
    const old = problems({
      ...both,
      [k("vpcCniAddonVersion")]: "v1.18.6-eksbuild.1",
      [k("kubeProxyAddonVersion")]: "v1.31.1-eksbuild.9",
    });
    assert.match(old.get(k("vpcCniAddonVersion"))!, /^v1\.18\.6-eksbuild\.1 is too old/);
    assert.match(
      old.get(k("kubeProxyAddonVersion"))!,
      /^v1\.31\.1-eksbuild\.9 is too old.*v1\.31\.2-eksbuild\.3 or later/,
    );
    assert.match(
      problems({
        ...both,
        [k("vpcCniAddonVersion")]: "v1.19.0-eksbuild.1",
        [k("kubeProxyAddonVersion")]: "v1.24.17-eksbuild.2",
      }).get(k("kubeProxyAddonVersion"))!,
      /too old/,
    );
    const config = valid({
      ...both,
      [k("vpcCniAddonVersion")]: "v1.19.0-eksbuild.1",
      [k("kubeProxyAddonVersion")]: "v1.31.2-minimal-eksbuild.3",
      [k("identity")]: "pod-identity",
      [k("podIdentityAgentAddonVersion")]: "v1.3.4-eksbuild.1",
    });
    assert.ok(config.cluster.mode === "create");
    assert.equal(config.cluster.nodeCount.desired, 3, "the node group's keys still apply");
    assert.ok(
      valid({
        ...both,
        [k("vpcCniAddonVersion")]: "v1.20.4-eksbuild.2",
        [k("kubeProxyAddonVersion")]: "v1.33.0-eksbuild.2",
      }),
    );
  });
});

describe("parseStackConfig: the image platform", () => {
  it("accepts Graviton nodes with an arm64 image, and admin principals", () => {
    const config = valid({
      ...NODE_GROUP,
      [k("nodeInstanceType")]: "t4g.small",
      [k("imagePlatform")]: "linux/arm64",
      [k("clusterAdminPrincipalArns")]: JSON.stringify(["arn:aws:iam::123456789012:role/developers"]),
    });
    assert.ok(config.cluster.mode === "create");
    assert.deepEqual(config.cluster.adminPrincipalArns, ["arn:aws:iam::123456789012:role/developers"]);
  });
});

describe("instanceArchitecture", () => {
  it("recognises Graviton families", () => {
    for (const type of [
      "t4g.small",
      "m7g.large",
      "c7gn.xlarge",
      "r8g.medium",
      "m6gd.large",
      "a1.large",
      "g5g.xlarge",
    ]) {
      assert.equal(instanceArchitecture(type), "arm64", type);
    }
    for (const type of ["t3.small", "m7i.large", "m7i-flex.large", "c6a.large", "g4dn.xlarge", "inf2.xlarge"]) {
      assert.equal(instanceArchitecture(type), "amd64", type);
    }
  });
});

describe("parseStackConfig: the identity mode", () => {
  it("defaults to IRSA", () => {
    assert.deepEqual(valid({}).identity, { mode: "irsa", permissionsBoundary: undefined });
  });

  it("accepts pod-identity in every cluster mode", () => {
    assert.deepEqual(valid({ [k("identity")]: "pod-identity" }).identity, {
      mode: "pod-identity",
      permissionsBoundary: undefined,
    });
    const borrowed = valid({
      [k("identity")]: "pod-identity",
      [k("clusterMode")]: "borrow",
      [k("clusterStack")]: "acme/sqs-eks-consumer/shared",
      [k("ephemeral")]: "true",
    });
    assert.deepEqual(borrowed.identity.mode, "pod-identity");
    const adopted = valid({
      [k("identity")]: "pod-identity",
      [k("clusterMode")]: "adopt",
      [k("clusterName")]: "platform",
    });
    assert.deepEqual(adopted.identity.mode, "pod-identity");
  });

  it("names the key and the choices for anything else, beside other bad keys", () => {
    const found = problems({ [k("identity")]: "podidentity", [k("replicas")]: "0" });
    assert.equal(found.get(k("identity")), 'must be one of irsa, pod-identity, got "podidentity"');
    assert.ok(found.has(k("replicas")));
  });
});

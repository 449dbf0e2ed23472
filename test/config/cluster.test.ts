import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { k, problems, valid } from "./helpers";

describe("parseStackConfig: the cluster", () => {
  it("reads borrow mode and adopt mode", () => {
    assert.deepEqual(
      valid({ [k("clusterMode")]: "borrow", [k("clusterStack")]: "acme/sqs-eks-consumer/shared" }).cluster,
      {
        mode: "borrow",
        clusterStack: "acme/sqs-eks-consumer/shared",
      },
    );
    assert.deepEqual(valid({ [k("clusterMode")]: "adopt", [k("clusterName")]: "platform-prod" }).cluster, {
      mode: "adopt",
      clusterName: "platform-prod",
      requireOidcProvider: true,
    });
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
    const counts = problems({ [k("nodeMinCount")]: "3", [k("nodeDesiredCount")]: "1", [k("nodeMaxCount")]: "2" });
    assert.match(counts.get(k("nodeMinCount"))!, /above nodeMaxCount \(2\)/);
    assert.match(counts.get(k("nodeDesiredCount"))!, /outside nodeMinCount\.\.nodeMaxCount \(3\.\.2\)/);
    assert.match(problems({ [k("nodeInstanceType")]: "large" }).get(k("nodeInstanceType"))!, /EC2 instance type/);
    assert.match(
      problems({ [k("nodeInstanceType")]: "m7g.large" }).get(k("nodeInstanceType"))!,
      /m7g\.large is arm64 but imagePlatform is linux\/amd64/,
    );
    assert.match(
      problems({ [k("imagePlatform")]: "linux/arm64" }).get(k("nodeInstanceType"))!,
      /t3\.medium is amd64 but imagePlatform is linux\/arm64/,
    );
    assert.match(
      problems({ [k("imagePlatform")]: "windows/amd64" }).get(k("imagePlatform"))!,
      /one of linux\/amd64, linux\/arm64/,
    );
    assert.match(problems({ [k("kubernetesVersion")]: "latest" }).get(k("kubernetesVersion"))!, /must look like 1\.34/);
  });
});

/**
 * Values unknown at preview: a rule that cannot decide says so, as an advisory naming the rule, the
 * resource and the property, and still checks everything else. Unknown values are the SDK's sentinels,
 * exactly what the engine puts in the property bag during `pulumi preview` of new resources.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS, K8S } from "../lib/types";
import { runPack, type Violation } from "../offline/run-pack";
import { edit } from "./harness";
import { goodResources, goodStack, resource } from "./fixtures/good-stack";

/** @pulumi/policy's sentinel for an unknown string (proxy.js `unknownStringValue`). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function of(violations: readonly Violation[], policy: string): Violation[] {
  return violations.filter((v) => v.policy === policy);
}

describe("rules that cannot decide at preview", () => {
  it("role-least-privilege reports the unknown role policy as advisory and still judges the other roles", async () => {
    const good = goodResources();
    const rolePolicy = edit(good.rolePolicy, { policy: UNKNOWN });
    const nodeAdmin = resource(AWS.rolePolicyAttachment, "node-admin", {
      role: good.nodeRole.props["name"],
      policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
    });
    const { violations } = await runPack([...Object.values({ ...good, rolePolicy }), nodeAdmin]);
    const found = of(violations, "role-least-privilege");
    assert.deepEqual(
      found.map((v) => v.enforcement),
      ["mandatory", "advisory"],
    );
    assert.match(
      found[0]?.message ?? "",
      /^Role "cluster-node-role" \(node\) has policy arn:aws:iam::aws:policy\/AdministratorAccess attached/,
    );
    assert.match(
      found[1]?.message ?? "",
      /^can't run policy 'role-least-privilege' from policy pack 'sqs-eks-consumer@v[\d.]+' during preview: undecided, values unknown until the resources exist: Role "consumer-role" role policy "consumer-access": string value at \.policy can't be known during preview; /,
    );
  });

  it("role-trust-pinned and queue-denies-insecure-transport name the unknown trust policy and queue ARN", async () => {
    const good = goodResources();
    const role = edit(good.role, { assumeRolePolicy: UNKNOWN });
    const queue = edit(good.queue, { arn: UNKNOWN });
    const { violations } = await runPack(Object.values({ ...good, role, queue }));
    const trust = of(violations, "role-trust-pinned");
    assert.deepEqual(
      trust.map((v) => v.enforcement),
      ["advisory"],
    );
    assert.match(
      trust[0]?.message ?? "",
      /Role "consumer-role" \.assumeRolePolicy: string value at \.assumeRolePolicy can't be known during preview/,
    );
    const tls = of(violations, "queue-denies-insecure-transport");
    assert.deepEqual(
      tls.map((v) => v.enforcement),
      ["advisory"],
    );
    assert.match(
      tls[0]?.message ?? "",
      /Queue "consumer-queue" policy: string value at \.arn can't be known during preview/,
    );
  });

  it("no-static-aws-credentials names the unknown path and still reports a credential beside it", async () => {
    const secret = resource(K8S.secret, "mixed", { stringData: { QUEUE_URL: UNKNOWN, AWS_SECRET_ACCESS_KEY: "x" } });
    const { violations } = await runPack([...goodStack(), secret]);
    const found = of(violations, "no-static-aws-credentials");
    assert.deepEqual(
      found.map((v) => [v.enforcement, v.name]),
      [
        ["mandatory", "mixed"],
        ["advisory", "mixed"],
      ],
    );
    assert.match(
      found[0]?.message ?? "",
      /^Secret "mixed": stringData\.AWS_SECRET_ACCESS_KEY is a static AWS credential;/,
    );
    assert.match(
      found[1]?.message ?? "",
      /undecided, values unknown until the resources exist: Secret "mixed": \.stringData\.QUEUE_URL is unknown;/,
    );
  });

  it("keeps the pack's verdict on a fully known stack free of advisories", async () => {
    const { violations } = await runPack(goodStack());
    assert.deepEqual(violations, []);
  });
});

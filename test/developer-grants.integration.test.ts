/**
 * A change to one developer's access never removes another's, not even for a moment: between two recorded
 * runs of the platform stack, no resource that grants a remaining developer anything is deleted or replaced.
 *
 * Replacement is judged from the providers' own rules, not from this program:
 * - pulumi-eks expands each access entry into an `aws.eks.AccessEntry` and one `aws.eks.AccessPolicyAssociation`
 *   per policy (pulumi/pulumi-eks `nodejs/eks/cluster.ts`, access entries keyed as given). In the AWS provider
 *   (terraform-provider-aws `internal/service/eks/access_entry.go`) an entry's `principal_arn` and `type` force a
 *   new entry (`username` and `kubernetes_groups` update in place); an association's `policy_arn` and
 *   `access_scope` (its namespaces) force a new association (`access_policy_association.go`), which keeps the
 *   same id, so create-before-delete ends with it deleted.
 * - A Kubernetes object is replaced when its name or namespace changes, and a binding when its roleRef does
 *   (Kubernetes docs, "Using RBAC Authorization": a binding's roleRef cannot be changed).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ProgramRun, RecordedResource } from "./helpers/mocks";
import { assertSucceeded, runPrograms, scenario } from "./helpers/program";

const ACCOUNT = "123456789012";
const SHARED_ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Developer_0123456789abcdef`;
const alice = `alice=arn:aws:iam::${ACCOUNT}:role/alice`;
const bob = `bob=${SHARED_ROLE} session=bob@example.com`;
const carol = `carol=${SHARED_ROLE} session=carol@example.com`;
const dave = `dave=arn:aws:iam::${ACCOUNT}:user/dave`;

interface Entry {
  readonly principalArn: string;
  readonly type?: string;
  readonly accessPolicies?: Record<string, { readonly policyArn: string; readonly accessScope: unknown }>;
}

/** What would be deleted or replaced, in `after` against `before`, of the grants to `principals`. */
function lostGrants(before: ProgramRun, after: ProgramRun, principals: readonly string[]): string[] {
  const entries = (run: ProgramRun) =>
    (run.resources.find((r) => r.type === "eks:index:Cluster")?.inputs.accessEntries ?? {}) as Record<string, Entry>;
  const was = entries(before);
  const now = entries(after);
  const lost: string[] = [];
  for (const [key, entry] of Object.entries(was)) {
    if (!principals.includes(entry.principalArn)) continue;
    const next = now[key];
    if (next === undefined) {
      lost.push(`access entry ${key} (${entry.principalArn}) deleted`);
      continue;
    }
    if (next.principalArn !== entry.principalArn || next.type !== entry.type) lost.push(`access entry ${key} replaced`);
    for (const [policyKey, association] of Object.entries(entry.accessPolicies ?? {})) {
      const nextAssociation = next.accessPolicies?.[policyKey];
      if (nextAssociation === undefined) lost.push(`${key} association ${policyKey} deleted`);
      else if (
        nextAssociation.policyArn !== association.policyArn ||
        JSON.stringify(nextAssociation.accessScope) !== JSON.stringify(association.accessScope)
      ) {
        lost.push(
          `${key} association ${policyKey} replaced (access scope ${JSON.stringify(association.accessScope)} -> ${JSON.stringify(nextAssociation.accessScope)})`,
        );
      }
    }
  }
  const kubernetes = (run: ProgramRun) =>
    new Map(run.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.read).map((r) => [r.urn, r]));
  const wasObjects = kubernetes(before);
  const nowObjects = kubernetes(after);
  const identity = (r: RecordedResource) =>
    JSON.stringify([
      (r.inputs.metadata as { name?: unknown; namespace?: unknown } | undefined) ?? {},
      r.inputs.roleRef ?? null,
    ]);
  for (const [urn, object] of wasObjects) {
    const next = nowObjects.get(urn);
    if (next === undefined) lost.push(`${object.type} ${object.name} deleted`);
    else if (identity(next) !== identity(object)) lost.push(`${object.type} ${object.name} replaced`);
  }
  return lost;
}

let two: ProgramRun;
let four: ProgramRun;
let three: ProgramRun;

before(async () => {
  [two, four, three] = (await runPrograms([
    await scenario("shared", { developers: [alice, bob] }),
    await scenario("shared", { developers: [alice, bob, carol, dave] }),
    await scenario("shared", { developers: [bob, carol, dave] }),
  ])) as [ProgramRun, ProgramRun, ProgramRun];
  for (const run of [two, four, three]) assertSucceeded(run);
});

describe("changing who may run developer stacks", () => {
  it("adding people, one on a role another uses, replaces and deletes none of the others' grants", () => {
    assert.deepEqual(lostGrants(two, four, [`arn:aws:iam::${ACCOUNT}:role/alice`, SHARED_ROLE]), []);
  });

  it("removing a person takes only that person's grants", () => {
    assert.deepEqual(lostGrants(four, three, [SHARED_ROLE, `arn:aws:iam::${ACCOUNT}:user/dave`]), []);
    assert.ok(lostGrants(four, three, [`arn:aws:iam::${ACCOUNT}:role/alice`]).some((l) => l.includes("deleted")));
  });
});

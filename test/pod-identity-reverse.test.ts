/**
 * docs/DEPLOY.md's pod-identity -> irsa migration, checked under mocks against the two programs (a create-mode
 * stack in each mode): the URNs its commands target are the engine's URNs of real resources, the targeted
 * `pulumi up` needs nothing it does not create, the targeted `pulumi destroy` leaves no dependent behind, and
 * the last `pulumi up` deletes exactly what the doc says. What Pulumi and EKS do between the steps (delete
 * order, credential refresh) is upstream behaviour the doc cites, not something mocks can show.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import type { ProgramRun, RecordedResource } from "./helpers/mocks";
import { REPO_ROOT, assertSucceeded, named, oneOfType, runPrograms, scenario } from "./helpers/program";

const STACK = "shared";
let irsa: ProgramRun;
let pod: ProgramRun;
let commands: { readonly command: string; readonly targets: readonly string[] }[];

/** The resource's URN as the engine forms it: the types of its ancestors below the root stack, then its own. */
function engineUrn(run: ProgramRun, resource: RecordedResource): string {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const types = [resource.type];
  for (
    let parent = byUrn.get(resource.parent);
    parent !== undefined && parent.type !== "pulumi:pulumi:Stack";
    parent = byUrn.get(parent.parent)
  ) {
    types.unshift(parent.type);
  }
  return `urn:pulumi:${STACK}::sqs-eks-consumer::${types.join("$")}::${resource.name}`;
}

/** The resource a doc URN names in a run, if any. */
function byEngineUrn(run: ProgramRun, urn: string): RecordedResource | undefined {
  return run.resources.find((resource) => engineUrn(run, resource) === urn);
}

/** The doc's shell block for the migration, as commands with their `--target` URNs (STACK substituted). */
function migrationCommands(doc: string): { command: string; targets: string[] }[] {
  const section = doc.slice(doc.indexOf("**pod-identity -> irsa"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const lines = block
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const prefixLine = lines.find((line) => line.startsWith("URN="));
  assert.ok(prefixLine !== undefined, "the block defines URN=");
  const prefix = prefixLine
    .slice("URN=".length)
    .replace(/"\$STACK"/g, STACK)
    .replace(/'/g, "");
  return lines
    .filter((line) => line.startsWith("pulumi "))
    .map((line) => ({
      command: line.replace(/ --target .*/, ""),
      targets: [...line.matchAll(/--target "\$\{URN\}([^"]+)"/g)].map((match) => prefix + match[1]!),
    }));
}

before(async () => {
  [irsa, pod] = (await runPrograms([
    await scenario(STACK, {}),
    await scenario(STACK, { identity: "pod-identity" }),
  ])) as [ProgramRun, ProgramRun];
  assertSucceeded(irsa);
  assertSucceeded(pod);
  commands = migrationCommands(await readFile(path.join(REPO_ROOT, "docs", "DEPLOY.md"), "utf8"));
});

describe("docs/DEPLOY.md: pod-identity -> irsa in three steps, under mocks", () => {
  it("is a config change and three commands: a targeted up, a targeted destroy, an up", () => {
    assert.deepEqual(
      commands.map((c) => [c.command, c.targets.length > 0]),
      [
        ["pulumi config set identity irsa", false],
        ["pulumi up", true],
        ["pulumi destroy", true],
        ["pulumi up", false],
      ],
    );
  });

  it("step 1 targets the IRSA role, its policy and the service account, by the URNs the engine gives them", () => {
    const targets = commands[1]!.targets.map((urn) => byEngineUrn(irsa, urn)?.name);
    assert.deepEqual(targets, ["identity-role", "identity-queue-access", "identity-service-account"]);
  });

  it("step 1 can run alone: every dependency of a target is a target or already exists in the pod-identity stack", () => {
    const targets = new Set(commands[1]!.targets.map((urn) => byEngineUrn(irsa, urn)!.urn));
    const existing = new Set(pod.resources.map((resource) => resource.urn));
    for (const urn of targets) {
      const resource = irsa.resources.find((r) => r.urn === urn)!;
      const missing = resource.dependencies.filter(
        (dependency) => !targets.has(dependency) && !existing.has(dependency),
      );
      assert.deepEqual(missing, [], `${resource.name} needs resources step 1 does not create`);
    }
  });

  it("step 1 leaves the association, the Pod Identity role and the Deployment as they are", () => {
    const targeted = new Set(commands[1]!.targets);
    for (const name of ["identity-pod-identity-association", "identity-pod-identity-role"])
      assert.ok(!targeted.has(engineUrn(pod, named(pod, name))), name);
    assert.ok(!targeted.has(engineUrn(pod, oneOfType(pod, "kubernetes:apps/v1:Deployment"))));
  });

  it("step 2 destroys the association alone: after step 1 nothing depends on it, so no --target-dependents is needed", () => {
    const association = oneOfType(pod, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
    assert.deepEqual(commands[2]!.targets, [engineUrn(pod, association)]);
    // The state after step 1: the pod-identity stack with the targets as the irsa program registers them.
    const replaced = new Map(commands[1]!.targets.map((urn) => [byEngineUrn(irsa, urn)!.urn, byEngineUrn(irsa, urn)!]));
    const state = [...pod.resources.filter((resource) => !replaced.has(resource.urn)), ...replaced.values()];
    const dependents = state.filter(
      (resource) => resource.dependencies.includes(association.urn) || resource.parent === association.urn,
    );
    assert.deepEqual(
      dependents.map((resource) => resource.name),
      [],
    );
    // Before step 1 the service account depended on it: this is why the order matters.
    assert.ok(oneOfType(pod, "kubernetes:core/v1:ServiceAccount").dependencies.includes(association.urn));
  });

  it("step 3 creates nothing, rolls the pods, and deletes the Pod Identity role, its policy and the agent add-on", () => {
    const afterStep2 = new Set(
      pod.resources
        .map((r) => r.urn)
        .filter((urn) => urn !== oneOfType(pod, "aws:eks/podIdentityAssociation:PodIdentityAssociation").urn),
    );
    for (const urn of commands[1]!.targets) afterStep2.add(byEngineUrn(irsa, urn)!.urn);
    const program = new Set(irsa.resources.map((r) => r.urn));
    assert.deepEqual(
      [...program].filter((urn) => !afterStep2.has(urn)),
      [],
      "creates",
    );
    const deletes = [...afterStep2]
      .filter((urn) => !program.has(urn))
      .map((urn) => pod.resources.find((r) => r.urn === urn)!.name)
      .sort();
    assert.deepEqual(
      deletes,
      [
        "identity-pod-identity-queue-access",
        "identity-pod-identity-role",
        "pod-identity-agent",
        "pod-identity-agent-addon",
      ].sort(),
    );
    const template = (run: ProgramRun) =>
      JSON.stringify((oneOfType(run, "kubernetes:apps/v1:Deployment").inputs.spec as { template: unknown }).template);
    assert.notEqual(template(pod), template(irsa), "the pod template changes, so the pods roll");
  });
});

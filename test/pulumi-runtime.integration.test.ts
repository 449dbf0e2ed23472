/**
 * The program loads the way `pulumi up` loads it: the Pulumi Node.js language host's entry point
 * (@pulumi/pulumi/cmd/run/run.js) with PULUMI_NODEJS_TYPESCRIPT=true registers ts-node (the one vendored in
 * @pulumi/pulumi, since the project has none) with the project's tsconfig.json, type-checks and requires
 * index.ts. Under tsx the other tests would not notice a program that only this path rejects.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ProgramRun } from "./helpers/mocks";
import { assertSucceeded, runPrograms, scenario } from "./helpers/program";

function registered(run: ProgramRun): string[] {
  return run.resources.map((r) => `${r.type}::${r.name}`).sort();
}

describe("the Pulumi Node.js runtime (ts-node, type-checked)", () => {
  it("loads index.ts and registers the same resources and outputs as under tsx", async () => {
    const [viaTsNode, viaTsx] = (await runPrograms([
      await scenario("runtime", {}, { loader: "ts-node" }),
      await scenario("runtime", {}, { loader: "tsx" }),
    ])) as [ProgramRun, ProgramRun];
    assertSucceeded(viaTsNode);
    assert.deepEqual(viaTsNode.loaders, { tsNode: true, tsx: false }, "ts-node alone loaded the program");
    assert.deepEqual(viaTsx.loaders, { tsNode: false, tsx: true });
    assert.ok(registered(viaTsNode).includes("kubernetes:apps/v1:Deployment::workload-deployment"));
    assert.deepEqual(registered(viaTsNode), registered(viaTsx));
    assert.deepEqual(viaTsNode.outputs, viaTsx.outputs);
  });
});

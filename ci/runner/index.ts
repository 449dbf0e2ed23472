/**
 * The runner stack: reads its config (ci/runner/config.ts), the cluster stack's `clusterName` through a
 * StackReference, and creates the CodeBuild runner in that cluster's VPC (ci/runner/runner.ts). Run from
 * this directory: `pulumi -C ci/runner up` (docs/DEPLOY.md, "Bootstrap").
 */
import * as pulumi from "@pulumi/pulumi";
import { parseRunnerConfig } from "./config";
import { CiRunner, runsOnLabel } from "./runner";

const parsed = parseRunnerConfig(pulumi.runtime.allConfig(), pulumi.getProject());
if (!parsed.ok) {
  throw new pulumi.RunError(
    `invalid runner configuration (${parsed.problems.length} problem${parsed.problems.length === 1 ? "" : "s"}): ${parsed.problems
      .map((problem) => `${problem.key}: ${problem.reason}`)
      .join("; ")}`,
  );
}
const config = parsed.value;
const clusterStack = new pulumi.StackReference("cluster-stack", { name: config.clusterStack });
const clusterName = clusterStack.requireOutput("clusterName").apply((value) => String(value));
const runner = new CiRunner("runner", {
  config,
  clusterName,
  tags: { Project: pulumi.getProject(), Stack: pulumi.getStack(), ManagedBy: "pulumi" },
});

export const projectName = runner.projectName;
/** What the workflow jobs put in `runs-on` to run on this runner. */
export const runsOn = clusterName.apply(runsOnLabel);

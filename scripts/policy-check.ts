/**
 * `npm run policy`: the offline policy check, with no cloud credentials. For each stack, records the program
 * under Pulumi mocks with the stack's committed config (Pulumi.<stack>.yaml), runs the policy pack on the
 * recorded resources, and prints the violations the way `pulumi preview --policy-pack policies` does.
 * Exits 1 when a mandatory policy is violated or a program run fails.
 *
 *   npm run policy                                  # every committed stack
 *   npm run policy -- dev --policy-pack-config policies/policy-config.example.json
 *   npm run policy -- dev --chart-archive keda-2.20.2.tgz [--helm /path/to/helm]   # judge the KEDA chart's objects too
 *
 * The cluster a stack borrows (borrow mode) or adopts (adopt mode) is mocked: a default create-mode stack
 * of this project, or a made-up EKS cluster. Only the stack's own resources are what the pack judges.
 */
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PROJECT } from "../infra/config";
import { KEDA_CHART } from "../infra/keda";
import { expandCharts, unseenPackagedObjects } from "../policies/offline/packaged";
import { exitCodeOf, formatViolations, runPack, summarize } from "../policies/offline/run-pack";
import type { ProgramRun } from "../test/helpers/mocks";
import { REPO_ROOT, borrowing, packResources, runProgram, scenario, stackFileValues } from "../test/helpers/program";

const MOCK_ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/0FF11NE0000000000000000000000000";

/** The stacks with a committed Pulumi.<stack>.yaml. */
async function committedStacks(): Promise<string[]> {
  const files = await readdir(REPO_ROOT);
  return files.flatMap((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1] ?? []).sort();
}

/**
 * Records the program for `stack` with its config `values` (`namespace:key` -> value, as in a stack file),
 * with a mocked cluster to borrow or adopt when its mode needs one.
 */
export async function recordStack(stack: string, values: Readonly<Record<string, unknown>>): Promise<ProgramRun> {
  const stackValues = values as Parameters<typeof scenario>[1];
  const mode = values[`${PROJECT}:clusterMode`] ?? "create";
  if (mode === "borrow") {
    const clusterStack = String(values[`${PROJECT}:clusterStack`]);
    // The mocked platform stack lists the person the stack is named after (`<person>` or `<person>-...`) as a
    // developer, as its admins would, and that person runs the stack.
    const person = stack.split("-")[0]!.toLowerCase();
    const shared = await runProgram(
      await scenario(clusterStack.split("/").at(-1) ?? "shared", {
        developers: [`${person}=arn:aws:iam::123456789012:role/${person}`],
      }),
    );
    return runProgram(
      await scenario(
        stack,
        stackValues,
        borrowing(shared, `arn:aws:sts::123456789012:assumed-role/${person}/policy-check`),
      ),
    );
  }
  if (mode === "adopt") {
    const clusterName = String(values[`${PROJECT}:clusterName`]);
    const existingClusters = {
      [clusterName]: {
        endpoint: "https://0FF11NE.gr7.us-west-2.eks.amazonaws.com",
        certificateAuthorityData: "LS0tLS1CRUdJTi0tLS0t",
        oidcIssuerUrl: `https://${MOCK_ISSUER}`,
        oidcProviderArn: `arn:aws:iam::123456789012:oidc-provider/${MOCK_ISSUER}`,
      },
    };
    return runProgram(await scenario(stack, stackValues, { existingClusters }));
  }
  return runProgram(await scenario(stack, stackValues));
}

async function main(): Promise<number> {
  const { values: options, positionals } = parseArgs({
    options: {
      "policy-pack-config": { type: "string" },
      helm: { type: "string" },
      "chart-archive": { type: "string" },
    },
    allowPositionals: true,
  });
  const configFile = options["policy-pack-config"];
  const packConfig: unknown =
    configFile === undefined ? {} : JSON.parse(await readFile(path.resolve(configFile), "utf8"));
  const stacks = positionals.length > 0 ? positionals : await committedStacks();

  let exitCode = 0;
  for (const stack of stacks) {
    console.log(`Stack ${stack} (program recorded under mocks)`);
    const run = await recordStack(stack, await stackFileValues(stack));
    if (run.errors.length > 0) {
      console.log(`  the program failed: ${run.errors.join("\n  ")}`);
      exitCode = 1;
      continue;
    }
    const archive = options["chart-archive"];
    // With Helm and the pinned KEDA chart archive, the chart's objects are judged as a preview judges them.
    const resources =
      archive === undefined
        ? packResources(run)
        : await expandCharts(packResources(run), {
            helm: options.helm ?? "helm",
            archive: path.resolve(archive),
            sha256: KEDA_CHART.archiveSha256,
          });
    const result = await runPack(resources, packConfig);
    console.log(formatViolations(result));
    console.log(summarize(result));
    const unseen = unseenPackagedObjects(resources);
    if (unseen.length > 0)
      console.log(
        `Not judged here: the objects of ${unseen.join(", ")} (one resource under mocks; pulumi preview judges each, or pass --chart-archive: docs/POLICY.md, "Packaged objects")`,
      );
    exitCode = Math.max(exitCode, exitCodeOf(result));
  }
  return exitCode;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}

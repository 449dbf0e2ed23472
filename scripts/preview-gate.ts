// `npm run preview-gate -- <plan.json | ->`: reads the plan `pulumi preview --json` printed (a file, or stdin
// with `-`) and fails when it would replace or delete a stateful resource (a queue, the ECR repository, the EKS
// cluster or its OIDC provider), or move the cluster to other subnets, naming each resource and the property that
// forces it (scripts/preview-gate/judge.ts). A failed preview (error diagnostics in the plan) fails it too.
// Exit codes: 0 passed, 1 refused, 64 bad usage, 65 the input is not a preview plan (sysexits.h EX_USAGE, EX_DATAERR).
import { readFileSync } from "node:fs";
import { judgePlan, parsePlan, passes, renderVerdict } from "./preview-gate/judge";

const USAGE = "usage: npm run preview-gate -- <plan.json from `pulumi preview --json`, or - for stdin>";
const EXIT_USAGE = 64;
const EXIT_DATAERR = 65;

function main(args: readonly string[]): number {
  if (args.length !== 1 || args[0] === "") {
    console.error(USAGE);
    return EXIT_USAGE;
  }
  const source = args[0]!;
  let text: string;
  try {
    text = readFileSync(source === "-" ? 0 : source, "utf8");
  } catch (error) {
    console.error(`cannot read ${source}: ${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  let verdict;
  try {
    verdict = judgePlan(parsePlan(text));
  } catch (error) {
    console.error(`${source}: ${(error as Error).message}`);
    return EXIT_DATAERR;
  }
  const report = renderVerdict(verdict);
  if (passes(verdict)) {
    console.log(report);
    return 0;
  }
  console.error(report);
  return 1;
}

process.exitCode = main(process.argv.slice(2));

// `npm run drill`: autoscaling on queue depth, rehearsed with real processes on a real emulator.
// fauxqs runs in its own process; a controller reproducing KEDA's aws-sqs-queue metric and the HPA's
// algorithm starts and SIGTERMs consumer processes; the same burst is then drained by a fixed
// deployment for comparison, and by the autoscaled one again on nodes launched for its pods (drill/nodes.ts). The checks are asserted here, in the drill's output: exit 1 if any fails.
// Flags: --quick (CI: a small burst, compressed timings), --seed N (replay the choice of pods to stop),
// --svg PATH (where the plot goes; default .drill/drill-<mode>.svg).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SQSClient } from "@aws-sdk/client-sqs";
import { describeMachine, loadAverage, startEmulatorProcess } from "../harness";
import { buildPodBundle } from "./bundle";
import { svgPlot } from "./chart";
import { runPhase, type PhaseResult } from "./phase";
import { drillPlan } from "./plan";
import { seededRandom } from "./pods";
import { drillChecks, renderDrillReport } from "./report";

const repoDir = join(__dirname, "..");

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: "boolean" }, seed: { type: "string" }, svg: { type: "string" } },
  });
  const plan = drillPlan(values.quick ?? false);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const svgPath = resolve(values.svg ?? join(repoDir, ".drill", `drill-${plan.mode}.svg`));
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  const machine = describeMachine();

  const workDir = join(repoDir, ".drill", `run-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  const logDir = join(workDir, "logs");
  const homeDir = join(workDir, "home");
  mkdirSync(logDir, { recursive: true });
  mkdirSync(homeDir, { recursive: true });
  progress(`drill (${plan.mode}), seed ${seed}: bundling the pod`);
  const bundle = await buildPodBundle(join(repoDir, ".drill", "build"));
  const emulator = await startEmulatorProcess();
  const setup = new SQSClient({
    endpoint: emulator.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "drill-setup", secretAccessKey: "drill-placeholder" },
  });
  const ctx = { emulator, setup, bundle, logDir, homeDir, random: seededRandom(seed) };
  const runs: PhaseResult[] = [];
  try {
    runs.push(await runPhase(ctx, plan, "autoscaled", progress));
    runs.push(await runPhase(ctx, plan, "fixed", progress));
    runs.push(await runPhase(ctx, plan, "autoscaled", progress, plan.nodes));
  } finally {
    setup.destroy();
    await emulator.stop();
  }

  const [autoscaled, fixed] = runs as [PhaseResult, PhaseResult, PhaseResult];
  mkdirSync(dirname(svgPath), { recursive: true });
  writeFileSync(
    svgPath,
    svgPlot(
      `Scaling drill (${plan.mode}): ${plan.messages.toLocaleString("en-US")} messages, ${plan.handlerMs} ms handler`,
      autoscaled.samples,
      fixed.samples,
      fixed.label,
    ),
  );
  const checks = drillChecks(plan, runs);
  process.stdout.write(`${renderDrillReport(plan, machine, loadAverage(), runs, checks, svgPath)}\nseed ${seed}\n`);
  if (checks.some((c) => !c.passed)) {
    progress(`pod logs kept in ${logDir}`);
    process.exitCode = 1;
  } else {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

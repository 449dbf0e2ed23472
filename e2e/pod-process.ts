// Starting a rendered pod's consumer container as a plain process (the fast variants in `npm test`):
// the launch on a free health port, rewritten by toProcessLaunch, spawned from the consumer's bundle.
import { spawnConsumer } from "../consumer/test/helpers/consumer-process";
import { processConsumer, type LaunchedConsumer } from "./launched-consumer";
import { toProcessLaunch } from "./pod-launch";
import { onFreeHealthPort, type PodRun } from "./rendered-pod-bed";

/** A started process, the run it was started from (its health port possibly moved), and a note saying which port. */
export interface StartedPodProcess {
  readonly run: PodRun;
  readonly consumer: LaunchedConsumer;
  readonly note: string;
}

/** Spawns `bundle` (consumer/test/helpers/consumer-process buildBundle) with the run's environment and arguments. */
export async function startPodProcess(bundle: string, podRun: PodRun): Promise<StartedPodProcess> {
  const run = await onFreeHealthPort(podRun);
  const launch = toProcessLaunch(run.launch, run.host);
  return { run, consumer: processConsumer(spawnConsumer(bundle, { ...launch.env }, launch.args)), note: run.note };
}

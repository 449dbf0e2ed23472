/**
 * The harness library that the benchmark (bench/, `npm run bench`) and the scaling drill (drill/,
 * `npm run drill`) share: both run consumers as real processes against the SQS emulator in a process of
 * its own, and measure them on one time line.
 *
 * - clock.ts             `epochMs`: milliseconds since the epoch, sub-millisecond, comparable across processes.
 * - wait.ts              `withTimeout`: a promise with a deadline that names what it waited for.
 * - machine.ts           `describeMachine`, `loadAverage`: the machine a run was measured on, and how busy it was.
 * - proc-stats.ts        `cpuMs`, `rssMiB`, `procAvailable`: another process's CPU time and memory, from /proc.
 * - emulator-control.ts  `startEmulatorProcess`: fauxqs in its own process (emulator-process.ts), which
 *                        times the requests of watched access keys and reports queue-depth marks;
 *                        emulator-protocol.ts holds the messages the two exchange.
 * - queues.ts            `createRunQueue`, `preload`, `readQueueAttributes`, `messagesHeld`, `deleteRunQueue`:
 *                        a queue and its DLQ as the Pulumi program configures them, filled and read by
 *                        the orchestrator's own client.
 * - bundle.ts            `CONSUMER_BUNDLE_OPTIONS`, `buildInfoDefine`: esbuild as consumer/build.mjs runs it.
 * - process.ts           `consumerEnv`, `startProcess`: a consumer process's environment (the emulator,
 *                        the queue, nothing of this machine's) and the orchestrator's handle on it.
 *
 * What only one of them needs stays with it: the contestants, scenarios and report in bench/; KEDA's and
 * the HPA's decisions (drill/hpa.ts), pods and their ledger in drill/.
 */
export { epochMs } from "./clock";
export { withTimeout } from "./wait";
export { describeMachine, loadAverage, type Machine } from "./machine";
export { cpuMs, procAvailable, rssMiB } from "./proc-stats";
export { startEmulatorProcess, type EmulatorControl, type Watch } from "./emulator-control";
export type { ServedRequest } from "./emulator-protocol";
export {
  createRunQueue,
  deleteRunQueue,
  messageBody,
  messagesHeld,
  preload,
  readQueueAttributes,
  type QueueAttributes,
} from "./queues";
export { CONSUMER_BUNDLE_OPTIONS, buildInfoDefine, type BuildInfo } from "./bundle";
export { consumerEnv, startProcess, type ConsumerEnvOptions, type RunningProcess } from "./process";

import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";

/**
 * Event-loop stalls, reported. The consumer runs on one thread: a handler that computes for seconds
 * without awaiting (CPU-bound work, a synchronous library call) stops everything else, the visibility
 * heartbeat, deletes, receives and the health port included. The consumer cannot prevent that; it
 * measures the event loop's delay (Node's `perf_hooks.monitorEventLoopDelay`) and, once the loop runs
 * again, warns and counts every stall long enough to let a held message's visibility end.
 *
 * Why a third of the visibility timeout: the heartbeat extends a message once half of its visibility
 * timeout or less is left, in passes a sixth of it apart (settle.ts), so a message can be extended as
 * late as a third of the timeout before it ends. A stall longer than that can let it end unextended.
 */

/** How often the delay histogram is read; a stall is reported at the first reading after it. */
const CHECK_INTERVAL_MS = 1_000;
/** The histogram's sampling interval: stalls are measured to about this precision. */
const RESOLUTION_MS = 20;
/** The share of the visibility timeout a stall must outlast to be reported (see above). */
export const STALL_SHARE_OF_VISIBILITY = 1 / 3;

type DelayHistogram = ReturnType<typeof monitorEventLoopDelay>;

/**
 * Watches the event loop for stalls; `start` and `stop` it with the consumer. A stall is reported (the
 * `event-loop-stalled` warning, sqs_consumer_event_loop_stalls_total) at the first reading after it ends,
 * within about CHECK_INTERVAL_MS; a stall that never ends is seen by nothing inside the process (the
 * liveness probe's timeout sees it).
 */
export class EventLoopWatch {
  private histogram: DelayHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the last reading ran (performance.now(), ms). */
  private lastCheck = 0;

  /**
   * @param visibilityTimeoutSeconds the visibility timeout receives ask for (VISIBILITY_TIMEOUT_SECONDS)
   * @param lapsedHeld counts the held messages whose visibility has ended by now (ms since epoch)
   */
  constructor(
    private readonly visibilityTimeoutSeconds: number,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly lapsedHeld: (now: number) => number,
  ) {}

  /** The shortest stall reported, ms. */
  get thresholdMs(): number {
    return this.visibilityTimeoutSeconds * 1000 * STALL_SHARE_OF_VISIBILITY;
  }

  /** Starts measuring; idempotent. */
  start(): void {
    if (this.histogram !== undefined) return;
    const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    histogram.enable();
    this.histogram = histogram;
    this.lastCheck = performance.now();
    this.timer = setInterval(() => this.check(histogram), CHECK_INTERVAL_MS);
    // The watch never keeps a process alive that has nothing else to do.
    this.timer.unref();
  }

  /** Stops measuring; a stall that has not been read yet is not reported. */
  stop(): void {
    clearInterval(this.timer);
    this.histogram?.disable();
    this.histogram = undefined;
  }

  /** Reads the longest delay since the last reading; reports it when it outlasted the threshold. */
  private check(histogram: DelayHistogram): void {
    // The histogram records in nanoseconds how late its sampling timer ran, i.e. how long the loop was
    // blocked. The reading's own timer is late by as much: when both fire after a stall, the reading may
    // run first, and the histogram records the stall only after this reset; the reading's lateness
    // catches it then.
    const now = performance.now();
    const late = now - this.lastCheck - CHECK_INTERVAL_MS;
    this.lastCheck = now;
    const stallMs = Math.round(Math.max(histogram.max / 1e6, late));
    histogram.reset();
    if (stallMs < this.thresholdMs) return;
    this.metrics.eventLoopStalls.inc();
    const lapsed = this.lapsedHeld(Date.now());
    this.logger.warn(
      {
        event: "event-loop-stalled",
        stallMs,
        thresholdMs: Math.round(this.thresholdMs),
        visibilityTimeoutSeconds: this.visibilityTimeoutSeconds,
        heldPastVisibility: lapsed,
      },
      `the event loop was blocked for ${(stallMs / 1000).toFixed(1)} s, more than a third of the visibility timeout ` +
        `(${this.visibilityTimeoutSeconds} s): the heartbeat, deletes and health probes waited meanwhile` +
        (lapsed > 0 ? `, and ${lapsed} held message(s) may be delivered again` : "") +
        ". Move CPU-bound work to a worker thread (worker_threads), so the event loop stays free",
    );
  }
}

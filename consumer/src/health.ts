import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PROBE_PATHS } from "./contract";
import type { ClassifiedError } from "./errors";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import { DEADLINES } from "./sqs-client";

/**
 * What the health port tells Kubernetes: readiness (receiving successfully), liveness (only a restart
 * helps), and the metrics, served on /readyz, /livez and /metrics (contract/index.ts, PROBE_PATHS).
 */

/** How often a failure that goes on is logged again, so a long outage is visible but not a flood. */
const REPEAT_LOG_MS = 60_000;

/** A receive in progress, as readiness sees it. */
export interface OpenReceive {
  /**
   * When its long poll would end on its own (ms since epoch): reckoned from its latest HTTP attempt, as
   * each SDK retry is a new poll of the full wait time; from the call's start until the first attempt.
   */
  readonly endsAt: number;
}

/**
 * Readiness is "receiving successfully": not ready while starting, while AWS calls fail, once shutdown
 * begins, for good once a receive loop has ended before shutdown (`broken`), and while a receive is
 * overdue (open longer than its wait time plus DEADLINES.receiveMarginMs): a loop stuck in a call that
 * never answers must not look healthy, even before the call's own deadline turns it into an error.
 * Loops waiting for free handler slots are not receiving and do not count. Also turns a stream of
 * identical failures into one warning, a reminder a minute, and one "recovered" line.
 */
export class Readiness {
  private state: "starting" | "ready" | "failing" | "stopping" | "broken" = "starting";
  private brokenReason = "";
  private failure: ClassifiedError | undefined;
  private failingSince = 0;
  private lastLoggedAt = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly openReceives: () => Iterable<OpenReceive> = () => [],
  ) {}

  get ready(): boolean {
    const ready = this.state === "ready" && this.overdueMs() === 0;
    if (this.state === "ready") this.metrics.ready.set(ready ? 1 : 0);
    return ready;
  }

  /** Why the consumer is not ready, for /readyz. */
  get reason(): string {
    if (this.state === "failing" && this.failure) return `${this.failure.kind}: ${this.failure.hint}`;
    if (this.state === "broken") return this.brokenReason;
    const overdue = this.overdueMs();
    if (this.state === "ready" && overdue > 0) {
      return `network: a ReceiveMessage is ${Math.round(overdue / 1000)} s past its wait time and has not answered; the connection to SQS may be stalled`;
    }
    return this.state;
  }

  /** How long the most overdue open receive is past its wait time, if more than the margin; else 0. */
  private overdueMs(): number {
    const now = Date.now();
    let worst = 0;
    for (const receive of this.openReceives()) worst = Math.max(worst, now - receive.endsAt);
    return worst > DEADLINES.receiveMarginMs ? worst : 0;
  }

  succeeded(): void {
    if (this.state === "ready" || this.state === "stopping" || this.state === "broken") return;
    if (this.state === "failing") {
      this.logger.info(
        { event: "recovered", afterMs: Date.now() - this.failingSince, kind: this.failure?.kind },
        "SQS calls succeed again",
      );
    }
    this.state = "ready";
    this.failure = undefined;
    this.metrics.ready.set(1);
  }

  failed(error: ClassifiedError, operation: string): void {
    this.metrics.recordError(error.kind, operation);
    if (this.state === "stopping" || this.state === "broken") return;
    const now = Date.now();
    const changed = this.state !== "failing" || this.failure?.kind !== error.kind || this.failure.code !== error.code;
    if (this.state !== "failing") this.failingSince = now;
    this.state = "failing";
    this.failure = error;
    this.metrics.ready.set(0);
    if (changed || now - this.lastLoggedAt >= REPEAT_LOG_MS) {
      this.logger.warn(
        {
          event: "aws-error",
          operation,
          kind: error.kind,
          code: error.code,
          error: error.message,
          hint: error.hint,
          ...(this.suppressed > 0 ? { repeated: this.suppressed } : {}),
        },
        `${operation} failed: ${error.kind}`,
      );
      this.lastLoggedAt = now;
      this.suppressed = 0;
    } else {
      this.suppressed++;
    }
  }

  /** Not ready for good: the consumer no longer receives (a receive loop ended), whatever calls succeed. */
  broken(reason: string): void {
    if (this.state === "stopping") return;
    this.state = "broken";
    this.brokenReason = reason;
    this.metrics.ready.set(0);
  }

  stopping(): void {
    this.state = "stopping";
    this.metrics.ready.set(0);
  }
}

/** What /livez reports: false once restarting the process is the only way to recover. */
export interface Liveness {
  readonly live: boolean;
  readonly reason: string;
}

/** A started health server, on `port` (the one asked for, or the free one picked for 0). */
export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves the health port:
 * /livez: 200 while the process and its event loop answer (a stuck loop fails the probe by not
 * answering) and the liveness check passes; 503 with the reason when it does not (see Invocations).
 * /readyz: 200 while receiving successfully, 503 with the reason otherwise.
 * /metrics: Prometheus text format.
 * It listens on `port` (0: a free one, see HealthServer.port) on every interface, or on `host` when given.
 * Rejects with the listen error (code EADDRINUSE when the port is taken).
 */
export async function startHealthServer(
  port: number,
  readiness: Readiness,
  metrics: Metrics,
  liveness: Liveness,
  host?: string,
): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === PROBE_PATHS.liveness) {
      const live = liveness.live;
      response
        .writeHead(live ? 200 : 503, { "content-type": "text/plain" })
        .end(live ? "ok\n" : `not live: ${liveness.reason}\n`);
    } else if (path === PROBE_PATHS.readiness) {
      const ready = readiness.ready;
      response
        .writeHead(ready ? 200 : 503, { "content-type": "text/plain" })
        .end(ready ? "ready\n" : `not ready: ${readiness.reason}\n`);
    } else if (path === PROBE_PATHS.metrics) {
      metrics.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        (error: unknown) =>
          response.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${String(error)}\n`),
      );
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  // Probes must not keep a connection open past shutdown.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (host === undefined) server.listen(port, () => resolve());
    else server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PROBE_PATHS } from "./contract/probes";
import type { Metrics } from "./metrics";
import type { Readiness } from "./readiness";

/** What /livez reports: false once restarting the process is the only way to recover. */
export interface Liveness {
  readonly live: boolean;
  readonly reason: string;
}

/**
 * /livez: 200 while the process and its event loop answer (a stuck loop fails the probe by not
 * answering) and the liveness check passes; 503 with the reason when it does not (see Invocations).
 * /readyz: 200 while receiving successfully, 503 with the reason otherwise.
 * /metrics: Prometheus text format.
 */
export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(
  port: number,
  readiness: Readiness,
  metrics: Metrics,
  liveness: Liveness,
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
    server.listen(port, () => resolve());
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

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** How a faulty collector answers an export: an HTTP status, or never (the request hangs). */
export type CollectorFault = { readonly status: 500 | 429 | 503 } | { readonly hang: true };

/**
 * A stand-in for a collector in trouble, on loopback: every POST is read and then answered with
 * `fault.status` (429/503 carry `Retry-After: 1`, what a throttling collector sends) or never
 * answered at all. Counts the requests it got, so a test sees that exports were tried.
 */
export async function startFaultyOtlpReceiver(
  fault: CollectorFault,
): Promise<{ readonly endpoint: string; readonly requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests++;
      if ("hang" in fault) return;
      res.writeHead(fault.status, {
        "content-type": "application/json",
        ...(fault.status === 500 ? {} : { "retry-after": "1" }),
      });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

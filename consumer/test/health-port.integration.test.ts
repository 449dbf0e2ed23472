// Where the health server listens: `npm start` on loopback only (/metrics is for this machine), the image
// on every interface (the pod's probes come from the kubelet, on the pod's IP); and a HEALTH_PORT another
// process holds ends the start with one line naming HEALTH_PORT and exit 78, not a stack trace.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { EXIT_INVALID_CONFIG } from "../src/app";
import { buildBundle, killConsumers, spawnConsumer, type ConsumerProcess } from "./helpers/consumer-process";
import { startTestBed, type TestBed } from "./helpers/test-bed";

const startScript = join(__dirname, "..", "local", "start.ts");

/**
 * The addresses the kernel says something listens on at `port`, read from /proc/net/tcp and tcp6 (proc(5):
 * `local_address` is the address and port in hex, the IPv4 address's bytes in host order on little-endian
 * machines; `st` 0A is LISTEN). An independent record of what the process bound, whatever it logged.
 */
function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const [file, v6] of [
    ["/proc/net/tcp", false],
    ["/proc/net/tcp6", true],
  ] as const) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local === undefined || state !== "0A") continue;
      const [hexAddress, hexPort] = local.split(":") as [string, string];
      if (parseInt(hexPort, 16) !== port) continue;
      found.push(v6 ? ipv6(hexAddress) : ipv4(hexAddress));
    }
  }
  return found.sort();
}

const ipv4 = (hex: string) =>
  (hex.match(/../g) ?? [])
    .reverse()
    .map((byte) => parseInt(byte, 16))
    .join(".");

/** IPv6 in /proc: four 32-bit words, each in host order; `::` and `::1` are all this test needs. */
const ipv6 = (hex: string) =>
  hex === "0".repeat(32) ? "::" : hex === "00000000000000000000000001000000" ? "::1" : `ipv6:${hex}`;

/** A port held by another process's socket on `host`. */
async function holdPort(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}

describe("the health server's address", () => {
  let bed: TestBed;
  let bundle: string;
  const servers: Server[] = [];
  before(async () => {
    bed = await startTestBed();
    bundle = buildBundle();
  });
  after(async () => {
    await killConsumers();
    for (const server of servers) server.close();
    await bed.close();
  });

  const stop = async (consumer: ConsumerProcess) => {
    consumer.child.kill("SIGTERM");
    await consumer.exited;
  };

  test("npm start listens on loopback only", async () => {
    const consumer = spawnConsumer(startScript, { LOCAL_SQS_PORT: "0", HEALTH_PORT: "0" });
    try {
      const port = await consumer.healthPort();
      assert.deepEqual(listeningAddresses(port), ["127.0.0.1"]);
    } finally {
      await stop(consumer);
    }
  });

  test("the image's bundle listens on every interface, for the pod's probes", async () => {
    const consumer = spawnConsumer(bundle, bed.env);
    try {
      const port = await consumer.healthPort();
      const addresses = listeningAddresses(port);
      assert.ok(
        addresses.length === 1 && ["::", "0.0.0.0"].includes(addresses[0]!),
        `listens on ${addresses.join(", ")}`,
      );
    } finally {
      await stop(consumer);
    }
  });

  test("npm start with HEALTH_PORT taken: one line naming HEALTH_PORT, exit 78, nothing on stderr", async () => {
    const held = await holdPort("127.0.0.1");
    servers.push(held.server);
    const consumer = spawnConsumer(startScript, { LOCAL_SQS_PORT: "0", HEALTH_PORT: String(held.port) });
    const exit = await consumer.exited;
    assert.equal(exit.code, EXIT_INVALID_CONFIG, JSON.stringify(consumer.lines));
    assert.deepEqual(consumer.stray, [], "a stack trace or other text outside the log lines");
    const fatal = consumer.lines.filter((line) => line.level === "fatal");
    assert.equal(fatal.length, 1);
    assert.equal(fatal[0]!.event, "health-port-in-use");
    assert.equal(
      fatal[0]!.msg,
      `HEALTH_PORT ${held.port} is in use on 127.0.0.1: stop what listens there, or set HEALTH_PORT to a free port (0 picks one)`,
    );
  });

  test("the image with HEALTH_PORT taken: the same line, exit 78", async () => {
    const held = await holdPort("::");
    servers.push(held.server);
    const consumer = spawnConsumer(bundle, { ...bed.env, HEALTH_PORT: String(held.port) });
    const exit = await consumer.exited;
    assert.equal(exit.code, EXIT_INVALID_CONFIG);
    assert.deepEqual(consumer.stray, []);
    const fatal = consumer.lines.filter((line) => line.level === "fatal");
    assert.equal(fatal.length, 1);
    assert.match(
      String(fatal[0]!.msg),
      new RegExp(`^HEALTH_PORT ${held.port} is in use: .*HEALTH_PORT to a free port`),
    );
  });
});

// Attacks on the consumer's side of EKS Pod Identity (issue 14: "every credential fetch has a deadline",
// error hints for the agent and the association): an agent that accepts and never answers, a token file
// that is not there, an agent that answers nonsense. The consumer must stay up, not ready, say why, and
// stop within its shutdown budget.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { buildBundle, probe, spawnConsumer, type ConsumerProcess } from "./helpers/consumer-process";
import { SilentServer } from "./helpers/silent-server";
import { startTestBed, type TestBed } from "./helpers/test-bed";

describe("EKS Pod Identity: an agent or token in trouble", () => {
  let bundle: string;
  let bed: TestBed;
  let consumer: ConsumerProcess | undefined;
  let tokenFile: string;
  before(async () => {
    bundle = buildBundle();
    bed = await startTestBed();
    tokenFile = join(mkdtempSync(join(tmpdir(), "pod-identity-attack-")), "eks-pod-identity-token");
    writeFileSync(tokenFile, "pod-token");
  });
  after(async () => bed.close());
  afterEach(async () => {
    if (consumer === undefined) return;
    consumer.child.kill("SIGTERM");
    const { code } = await consumer.exited;
    consumer = undefined;
    assert.equal(code, 0, "SIGTERM while credentials fail: a graceful exit");
  });

  function env(fullUri: string, overrides: Record<string, string> = {}): Record<string, string> {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...rest } = bed.env;
    return {
      ...rest,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: fullUri,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      SHUTDOWN_BUDGET_SECONDS: "5",
      ...overrides,
    };
  }

  async function notReadyWithCredentialsError(): Promise<Record<string, unknown>> {
    const port = await consumer!.healthPort();
    const warning = await consumer!.waitFor(
      (l) => l.event === "aws-error" || (l.event === "credentials" && l.level === "warn"),
      60_000,
      "a credentials error",
    );
    assert.equal((await probe(port, "/readyz")).status, 503);
    assert.equal(consumer!.child.exitCode, null, "the consumer exited");
    return warning;
  }

  test("an agent that accepts the connection and never answers: the fetch ends by its deadline, not ready, still up", async () => {
    const silent = new SilentServer();
    await silent.start();
    try {
      consumer = spawnConsumer(bundle, env(`${silent.endpoint}/v1/credentials`));
      const warning = await notReadyWithCredentialsError();
      assert.ok(silent.accepted > 0, "the agent was asked");
      assert.match(JSON.stringify(warning), /credentials|Pod Identity/i);
    } finally {
      consumer?.child.kill("SIGTERM");
      await consumer?.exited;
      consumer = undefined;
      await silent.stop();
    }
  });

  test("the token file is missing: not ready, and the log says so", async () => {
    const server: Server = createServer((_req, res) => res.end("{}"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      consumer = spawnConsumer(
        bundle,
        env(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/credentials`, {
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(tmpdir(), "no-such-dir", "token"),
        }),
      );
      const warning = await notReadyWithCredentialsError();
      assert.match(JSON.stringify(warning), /token|ENOENT|no-such-dir/i);
    } finally {
      server.close();
    }
  });

  for (const [what, body] of [
    ["not JSON", "<html>proxy error</html>"],
    ["JSON without keys", '{"Code":"Success"}'],
  ] as const) {
    test(`an agent that answers 200 with ${what}: not ready, still up`, async () => {
      const server: Server = createServer((_req, res) =>
        res.writeHead(200, { "content-type": "application/json" }).end(body),
      );
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        consumer = spawnConsumer(
          bundle,
          env(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/credentials`),
        );
        await notReadyWithCredentialsError();
      } finally {
        server.close();
      }
    });
  }
});

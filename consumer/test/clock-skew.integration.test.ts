// IRSA on a node whose clock is ahead of AWS's: web identity credentials look expired when they
// arrive. The consumer says so once, with the clock-skew hint, counts it, and does not ask STS again
// before every request.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EmulatorApp } from "../local/emulator";
import { buildBundle, killConsumers, probe, spawnConsumer } from "./helpers/consumer-process";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { StsStandIn } from "./helpers/sts-stand-in";
import { startTestBed, type TestBed } from "./helpers/test-bed";

const ROLE_ARN = "arn:aws:iam::123456789012:role/sqs-eks-consumer-dev";
/** AWS's clock against the node's: 2 hours behind it. */
const AWS_CLOCK_OFFSET_SECONDS = -7_200;

/** An emulator hook: every answer carries a Date header from AWS's clock, `offsetSeconds` from this machine's. */
function dateHeaders(offsetSeconds: number) {
  return (app: EmulatorApp): void => {
    app.addHook("onSend", (_request, reply, payload, done) => {
      void reply.header("date", new Date(Date.now() + offsetSeconds * 1000).toUTCString());
      done(null, payload);
    });
  };
}

/** The value of a counter series on /metrics, e.g. `sqs_consumer_clock_skew_total{evidence="date-header"}` (0 when absent). */
async function counter(port: number, series: string): Promise<number> {
  const text = (await probe(port, "/metrics")).body;
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

describe("credentials on a skewed clock", () => {
  let bed: TestBed;
  let sts: StsStandIn;
  const bundle = buildBundle();
  afterEach(async () => {
    await killConsumers();
    await sts.stop();
    await bed.close();
  });

  /**
   * A consumer on IRSA against an STS whose clock is `offsetSeconds` from this machine's, issuing 1-hour
   * sessions: several seconds of long polls of 1 s, two loops and deletes, dozens of signed requests.
   */
  async function consumeOnSkewedClock(offsetSeconds: number) {
    bed = await startTestBed({ configure: dateHeaders(offsetSeconds) });
    const tokenFile = join(mkdtempSync(join(tmpdir(), "irsa-")), "token");
    writeFileSync(tokenFile, "token-1");
    sts = new StsStandIn({ roleArn: ROLE_ARN, tokenFile, lifetimeSeconds: 3_600, clockOffsetSeconds: offsetSeconds });
    await sts.start();
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...env } = bed.env;
    const consumer = spawnConsumer(bundle, {
      ...env,
      AWS_ROLE_ARN: ROLE_ARN,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ENDPOINT_URL_STS: sts.endpoint,
      WAIT_TIME_SECONDS: "1",
    });
    const port = await consumer.healthPort();
    await sendMessages(bed.sqs, bed.queue.queueUrl, ["first", "second", "third"]);
    for (const body of ["first", "second", "third"]) await consumer.waitFor((l) => l.body === body, 15_000, body);
    await eventually(async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0, 10_000, "deletes");
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const signed = bed.requests.filter((r) => r.accessKeyId?.startsWith("ASIASTANDIN")).length;
    assert.ok(signed >= 10, `only ${signed} requests signed with STS's credentials`);
    return { consumer, port, signed };
  }

  test("a node 2 h ahead: one clock-skew warning with the hint, counted by evidence, STS asked at most once a minute", async () => {
    const { consumer, port, signed } = await consumeOnSkewedClock(AWS_CLOCK_OFFSET_SECONDS);
    assert.equal(sts.issued.length, 1, `${sts.issued.length} credential sets for ${signed} requests`);

    const warnings = consumer.lines.filter((l) => l.event === "clock-skew");
    assert.equal(warnings.length, 1, "warned once");
    assert.equal(warnings[0]!.level, "warn");
    assert.equal(warnings[0]!.code, "ClockSkew");
    assert.match(
      String(warnings[0]!.hint),
      /clock is at least 4\d\d\d s off AWS's \(expired-on-arrival\).*NTP\/chrony/,
    );
    assert.ok((await counter(port, 'sqs_consumer_clock_skew_total{evidence="expired-on-arrival"}')) >= 1);
    assert.equal(await counter(port, 'sqs_consumer_clock_skew_total{evidence="date-header"}'), 1);
    consumer.child.kill("SIGTERM");
    assert.equal((await consumer.exited).code, 0);
  });

  // 3,315 s ahead: 1-hour credentials arrive with 285 s left, inside the SDK's 5-minute refresh window
  // (@smithy/core EXPIRATION_MS) yet with more left than any source's shortest session would explain away.
  test("a node 55 min ahead: credentials with 285 s left are fetched once a minute too, not before every request", async () => {
    const { consumer, signed } = await consumeOnSkewedClock(-3_315);
    assert.equal(sts.issued.length, 1, `${sts.issued.length} credential sets for ${signed} requests`);
    const warnings = consumer.lines.filter((l) => l.event === "clock-skew");
    assert.equal(warnings.length, 1, "warned once");
    assert.match(String(warnings[0]!.hint), /at most once a minute/);
  });
});

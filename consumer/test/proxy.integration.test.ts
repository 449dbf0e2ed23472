import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, createServer, request, type Server } from "node:http";
import type { LookupFunction } from "node:net";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { trace } from "@opentelemetry/api";
import type { RunningConsumer } from "../src/app";
import { proxyAgentOptions } from "../src/proxy";
import { startTracingSdk } from "../src/tracing-sdk";
import type { ReceivedMessage } from "../src/handler";
import { HttpProxyStandIn, selfSignedCertificate, tlsFront, type Route } from "./helpers/http-proxy";
import { buildBundle, spawnConsumer } from "./helpers/consumer-process";
import { LogCapture } from "./helpers/log-capture";
import { startOtlpReceiver } from "./helpers/otlp-receiver";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { StsStandIn } from "./helpers/sts-stand-in";
import { startTestBed, startTestConsumer, type TestBed } from "./helpers/test-bed";

/**
 * Egress through an HTTP proxy: the SQS endpoint's name resolves nowhere (`.invalid`, RFC 6761), and
 * only the loopback proxy maps it to the emulator, so a message is handled only if every SQS request
 * went through the proxy. And hosts NO_PROXY names are reached directly, never through it.
 */

/** Resolvable by nobody but the proxy. */
const SQS_HOST = "sqs.proxy-only.invalid";
const PROXY_USER = "egress";
const PROXY_SECRET = "s3cret-in-url";

describe("egress through a proxy", () => {
  let bed: TestBed;
  let emulatorPort: number;
  let tls: { port: number; close(): Promise<void> };
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    bed = await startTestBed();
    emulatorPort = Number(new URL(bed.emulator.endpoint).port);
    // An HTTPS endpoint for the emulator under SQS_HOST, trusted by this process's TLS clients.
    const certificate = selfSignedCertificate(SQS_HOST);
    setDefaultCACertificates([...getCACertificates("default"), certificate.cert]);
    tls = await tlsFront(certificate, emulatorPort);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  after(async () => {
    await tls.close();
    await bed.close();
  });

  async function proxy(
    routes: ReadonlyMap<string, Route>,
    options: ConstructorParameters<typeof HttpProxyStandIn>[1] = {},
  ): Promise<HttpProxyStandIn> {
    const stand = new HttpProxyStandIn(routes, options);
    await stand.start();
    stops.push(() => stand.stop());
    return stand;
  }

  async function consume(env: Record<string, string>): Promise<{
    running: RunningConsumer;
    handled: string[];
    logs: Awaited<ReturnType<typeof startTestConsumer>>["logs"];
  }> {
    const handled: string[] = [];
    const { running, logs } = await startTestConsumer(bed, {
      env: { WAIT_TIME_SECONDS: "1", ...env },
      handler: (message: ReceivedMessage) => {
        handled.push(message.body);
        return Promise.resolve();
      },
    });
    stops.push(() => running.stop());
    return { running, handled, logs };
  }

  async function handledEndToEnd(handled: string[], label: string): Promise<void> {
    const bodies = [1, 2, 3].map((i) => `${label} ${i}`);
    await sendMessages(bed.sqs, bed.queue.queueUrl, bodies);
    await eventually(() => bodies.every((b) => handled.includes(b)), 20_000, `${label}: every message handled`);
    await eventually(
      async () => {
        const counts = await queueCounts(bed.sqs, bed.queue.queueUrl);
        return counts.visible === 0 && counts.inFlight === 0;
      },
      20_000,
      `${label}: every message deleted`,
    );
  }

  test("HTTPS_PROXY (CONNECT, with proxy credentials) is the only way to SQS: messages are handled end to end", async () => {
    const stand = await proxy(new Map([[`${SQS_HOST}:443`, { host: "127.0.0.1", port: tls.port }]]), {
      credentials: `${PROXY_USER}:${PROXY_SECRET}`,
    });
    const { handled, logs } = await consume({
      AWS_ENDPOINT_URL_SQS: `https://${SQS_HOST}`,
      HTTPS_PROXY: stand.url(`${PROXY_USER}:${PROXY_SECRET}`),
      NO_PROXY: "localhost,.cluster.local",
    });
    await handledEndToEnd(handled, "connect");
    assert.ok(stand.requests.length > 0);
    assert.ok(
      stand.requests.every((r) => r.method === "CONNECT" && r.target === `${SQS_HOST}:443`),
      JSON.stringify(stand.requests),
    );
    // The start-up log names the proxy, without its credentials, and NO_PROXY; nothing logs the secret.
    const line = logs.find((l) => l.event === "proxy")[0];
    assert.ok(line, "a start-up line names the proxy");
    assert.equal(line.httpsProxy, `http://[credentials]@127.0.0.1:${stand.port}`);
    assert.equal(line.noProxy, "localhost,.cluster.local");
    assert.match(
      String(line.msg),
      new RegExp(`through the proxy http://\\[credentials\\]@127\\.0\\.0\\.1:${stand.port}`),
    );
    assert.ok(!JSON.stringify(logs.lines).includes(PROXY_SECRET), "the proxy's password is never logged");
  });

  test("lower-case http_proxy wins over HTTP_PROXY, and plain HTTP is forwarded (absolute form)", async () => {
    const stand = await proxy(new Map([[`${SQS_HOST}:${emulatorPort}`, { host: "127.0.0.1", port: emulatorPort }]]));
    const { handled } = await consume({
      AWS_ENDPOINT_URL_SQS: `http://${SQS_HOST}:${emulatorPort}`,
      http_proxy: stand.url(),
      // A dead proxy in the upper-case variable: were it used, nothing would be handled.
      HTTP_PROXY: "http://127.0.0.1:1",
    });
    await handledEndToEnd(handled, "forward");
    assert.ok(stand.requests.some((r) => r.target.startsWith(`http://${SQS_HOST}:${emulatorPort}/`)));
  });

  for (const noProxy of [
    "*",
    "127.0.0.1",
    "localhost, 127.0.0.1",
    "127.0.0.1:{port}",
    "10.0.0.1-10.0.0.9,127.0.0.1",
    "10.0.0.0/16,127.0.0.0/8",
  ]) {
    test(`NO_PROXY=${noProxy}: the emulator on 127.0.0.1 is reached directly, the proxy sees nothing`, async () => {
      const stand = await proxy(new Map());
      const { handled } = await consume({
        HTTP_PROXY: stand.url(),
        HTTPS_PROXY: stand.url(),
        NO_PROXY: noProxy.replace("{port}", String(emulatorPort)),
      });
      await handledEndToEnd(handled, `bypass ${noProxy}`);
      assert.deepEqual(stand.requests, []);
    });
  }

  test("a NO_PROXY entry no agent can honour is named in a start-up warning", async () => {
    const stand = await proxy(new Map());
    const { logs } = await consume({ HTTPS_PROXY: stand.url(), NO_PROXY: "127.0.0.1,fd00::/8,127.0.0.0/8" });
    const warned = logs.find((l) => l.event === "proxy" && l.level === "warn");
    assert.deepEqual(
      warned.map((l) => l.ignoredNoProxy),
      ["fd00::/8"],
    );
    assert.match(String(warned[0]!.msg), /NO_PROXY entry fd00::\/8 is ignored/);
  });

  test("a proxy that refuses the tunnel: the receive error is a network error whose hint names the proxy", async () => {
    const stand = await proxy(new Map(), { credentials: `${PROXY_USER}:${PROXY_SECRET}` });
    const { logs } = await consume({
      AWS_ENDPOINT_URL_SQS: `https://${SQS_HOST}`,
      // No credentials: the proxy answers CONNECT with 407.
      HTTPS_PROXY: stand.url(),
    });
    const failure = await logs.waitFor((l) => l.event === "aws-error", 15_000, "a failed receive");
    assert.equal(failure.kind, "network");
    assert.equal(failure.code, "ERR_PROXY_TUNNEL");
    assert.match(String(failure.hint), new RegExp(`through the proxy http://127\\.0\\.0\\.1:${stand.port}`));
    assert.match(String(failure.hint), /407/);
    assert.match(String(failure.hint), /NO_PROXY/);
  });

  test("a proxy that takes the connection and never answers: the receive still ends at a deadline", async () => {
    const stand = await proxy(new Map(), { silent: true });
    const startedAt = Date.now();
    const { logs } = await consume({ AWS_ENDPOINT_URL_SQS: `https://${SQS_HOST}`, HTTPS_PROXY: stand.url() });
    // The tunnel is part of the connection: its 3 s deadline (DEADLINES.connectMs) ends each attempt, and
    // the SDK's 3 attempts end the call; without a deadline it would wait for the 15-minute socket timeout.
    const failure = await logs.waitFor((l) => l.event === "aws-error", 30_000, "a stalled receive");
    const tookMs = Date.now() - startedAt;
    assert.equal(failure.kind, "network", JSON.stringify(failure));
    assert.match(
      String(failure.error),
      /did not establish a connection with the server within the configured timeout of 3000 ms/,
    );
    assert.ok(tookMs < 20_000, `the stalled receive ended after ${tookMs} ms`);
    assert.ok(stand.requests.some((r) => r.method === "CONNECT"));
  });
});

test("the OTLP exporter sends spans through HTTP_PROXY to a collector reachable only through it", async () => {
  const receiver = await startOtlpReceiver();
  const port = Number(new URL(receiver.endpoint).port);
  const collector = `collector.proxy-only.invalid:${port}`;
  const stand = new HttpProxyStandIn(new Map([[collector, { host: "127.0.0.1", port }]]));
  await stand.start();
  try {
    const logs = new LogCapture();
    const sdk = startTracingSdk(
      { protocol: "http/json", endpoint: `http://${collector}/v1/traces`, timeoutMs: 5_000, serviceName: "proxied" },
      "9.9.9",
      logs.logger,
      { httpProxy: stand.url() },
    );
    trace.getTracer("proxy-test").startSpan("through the proxy").end();
    await sdk.shutdown();
    assert.deepEqual(
      receiver.spans.map((s) => s.name),
      ["through the proxy"],
      JSON.stringify(logs.lines),
    );
    assert.ok(stand.requests.some((r) => r.method === "POST" && r.target === `http://${collector}/v1/traces`));
  } finally {
    await stand.stop();
    await receiver.close();
  }
});

test("IRSA: the shipped bundle reaches STS only through HTTP_PROXY, and SQS directly (NO_PROXY)", async () => {
  const roleArn = "arn:aws:iam::123456789012:role/sqs-eks-consumer-dev";
  const tokenFile = join(mkdtempSync(join(tmpdir(), "proxy-irsa-")), "token");
  writeFileSync(tokenFile, "token-1");
  const bundle = buildBundle();
  const bed = await startTestBed();
  const sts = new StsStandIn({ roleArn, tokenFile, lifetimeSeconds: 3600 });
  await sts.start();
  const stsHost = `sts.proxy-only.invalid:${sts.port}`;
  const stand = new HttpProxyStandIn(new Map([[stsHost, { host: "127.0.0.1", port: sts.port }]]));
  await stand.start();
  const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...env } = bed.env;
  const consumer = spawnConsumer(bundle, {
    ...env,
    AWS_ROLE_ARN: roleArn,
    AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
    AWS_STS_REGIONAL_ENDPOINTS: "regional",
    AWS_ENDPOINT_URL_STS: `http://${stsHost}`,
    HTTP_PROXY: stand.url(),
    NO_PROXY: "127.0.0.1",
  });
  try {
    const credentials = await consumer.waitFor((l) => l.event === "credentials", 15_000, "the credentials line");
    assert.equal(credentials.source, "web identity token (IRSA)");
    await sendMessages(bed.sqs, bed.queue.queueUrl, ["through the proxy to STS"]);
    await consumer.waitFor((l) => l.body === "through the proxy to STS", 15_000, "the message handled");
    assert.ok(sts.issued.length > 0);
    assert.ok(stand.requests.length > 0);
    assert.ok(
      stand.requests.every((r) => r.method === "POST" && r.target.startsWith(`http://${stsHost}/`)),
      `only STS went through the proxy: ${JSON.stringify(stand.requests)}`,
    );
  } finally {
    consumer.child.kill("SIGTERM");
    await consumer.exited;
    await stand.stop();
    await sts.stop();
    await bed.close();
  }
});

test("a proxy password a URL parser misreads exits 78 naming the variables, and the password is in no output", async () => {
  const consumer = spawnConsumer(join(__dirname, "../src/main.ts"), {
    QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/orders",
    AWS_REGION: "us-east-1",
    HTTPS_PROXY: "http://svc:2024/Secret!@proxy.corp:3128",
    http_proxy: "svcuser:hunter2@proxy.corp:3128",
  });
  assert.equal((await consumer.exited).code, 78);
  const fatal = consumer.lines.find((l) => l.event === "invalid-config");
  assert.ok(fatal, consumer.stray.join(""));
  assert.match(String(fatal.msg), /HTTPS_PROXY.*http_proxy/s);
  const output = JSON.stringify(consumer.lines) + consumer.stray.join("");
  for (const secret of ["2024/Secret!", "hunter2"]) assert.ok(!output.includes(secret), `${secret} in ${output}`);
});

/**
 * Which requests Node's agent sends through the proxy for a NO_PROXY value: every name resolves to
 * loopback (the request's own `lookup`), a "direct" server and a "proxy" server each record what
 * reaches them. The oracle is curl's reading of NO_PROXY (CURLOPT_NOPROXY): exact hosts, domains with
 * their subdomains (with or without a leading dot), host:port, and `*`, case-insensitive.
 */
describe("NO_PROXY, as the agents apply it", () => {
  let direct: Server;
  let proxy: Server;
  let directPort = 0;
  let proxyPort = 0;
  const reached: string[] = [];
  const toLoopback: LookupFunction = (_host, options, callback) =>
    options.all
      ? (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
          { address: "127.0.0.1", family: 4 },
        ])
      : callback(null, "127.0.0.1", 4);

  before(async () => {
    direct = createServer((req, res) => void res.end((reached.push(`direct ${req.headers.host}`), "")));
    proxy = createServer((req, res) => void res.end((reached.push(`proxy ${req.url}`), "")));
    await Promise.all([direct, proxy].map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()))));
    directPort = (direct.address() as { port: number }).port;
    proxyPort = (proxy.address() as { port: number }).port;
  });
  after(() => {
    direct.close();
    proxy.close();
  });

  async function route(noProxy: string, host: string): Promise<"direct" | "proxy"> {
    const options = proxyAgentOptions({ httpProxy: `http://127.0.0.1:${proxyPort}`, noProxy });
    const agent = new Agent(options);
    reached.length = 0;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host, port: directPort, path: "/", agent, lookup: toLoopback }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", reject);
      req.end();
    });
    agent.destroy();
    assert.equal(reached.length, 1);
    return reached[0]!.startsWith("direct") ? "direct" : "proxy";
  }

  const cases: [noProxy: string, host: string, expected: "direct" | "proxy"][] = [
    ["*", "sqs.us-east-1.amazonaws.com", "direct"],
    ["sqs.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com", "direct"],
    ["SQS.us-east-1.AmazonAWS.com", "sqs.us-east-1.amazonaws.com", "direct"],
    ["sqs.us-east-1.amazonaws.com", "sts.us-east-1.amazonaws.com", "proxy"],
    [".amazonaws.com", "sqs.us-east-1.amazonaws.com", "direct"],
    ["*.amazonaws.com", "sqs.us-east-1.amazonaws.com", "direct"],
    ["amazonaws.com", "sqs.us-east-1.amazonaws.com", "direct"],
    ["amazonaws.com", "notamazonaws.com", "proxy"],
    [".svc,.cluster.local", "sqs.us-east-1.amazonaws.com", "proxy"],
    ["sqs.us-east-1.amazonaws.com:{port}", "sqs.us-east-1.amazonaws.com", "direct"],
    ["sqs.us-east-1.amazonaws.com:1", "sqs.us-east-1.amazonaws.com", "proxy"],
    ["", "sqs.us-east-1.amazonaws.com", "proxy"],
    // curl and Go: a CIDR block covers IP-literal hosts inside it; brackets around an IPv6 address.
    ["127.0.0.0/8", "127.0.0.1", "direct"],
    ["10.0.0.0/16,127.0.0.0/24", "127.0.0.1", "direct"],
    ["10.0.0.0/16", "127.0.0.1", "proxy"],
    ["127.0.0.1/32", "127.0.0.1", "direct"],
  ];
  for (const [noProxy, host, expected] of cases) {
    test(`NO_PROXY=${JSON.stringify(noProxy)}: ${host} goes ${expected === "direct" ? "directly" : "through the proxy"}`, async () => {
      assert.equal(await route(noProxy.replace("{port}", String(directPort)), host), expected);
    });
  }
});

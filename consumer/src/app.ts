import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { ClockSkew } from "./clock-skew";
import { Consumer } from "./consumer";
import { batchSizeWarning } from "./contract/settings-warnings";
import { classifyAwsError, HealthPortInUseError, type Classify, type HintContext } from "./errors";
import { handlerFromFile, logMessage, type BatchHandler, type Handler, type MessageHandler } from "./handler";
import { startHealthServer } from "./health";
import { buildInfo, createLogger, logBanner, type Logger } from "./logger";
import { MessageMemory, memoryLimit, type MemoryLimit } from "./memory";
import { Metrics } from "./metrics";
import { hasProxy, ignoredNoProxyEntries, parseProxySettings, summarizeProxy, type ProxySettings } from "./proxy";
import {
  describeProblems,
  isFifoQueueUrl,
  parseSettings,
  type EnvLike,
  type SettingProblem,
  type Settings,
} from "./settings";
import { RECEIVE_BACKOFF } from "./receive";
import { backoffDelayMs, createSqsClient, sleep } from "./sqs-client";
import { parseTracingConfig } from "./tracing-config";

/**
 * The consumer as a process: wiring (settings, SQS client, consumer, health server), start-up checks
 * (which credentials, which queue), signals, and exit codes.
 */

/** sysexits.h EX_CONFIG: the configuration is wrong, restarting will not help. */
export const EXIT_INVALID_CONFIG = 78;

export interface StartOptions {
  readonly settings: Settings;
  readonly env: EnvLike;
  readonly logger: Logger;
  /** A message handler; defaults to the log handler, one info line per message (logMessage). */
  readonly handler?: MessageHandler;
  /** A batch handler (the Lambda form) instead of a message handler: batches of BATCH_SIZE, BATCH_WINDOW_SECONDS. */
  readonly batchHandler?: BatchHandler;
  /**
   * The address the health server listens on: every interface unless set (a pod's probes reach it on
   * the pod's IP); `npm start` passes 127.0.0.1, so a local run serves /metrics to this machine only.
   */
  readonly healthHost?: string;
  /**
   * The SQS client to use, e.g. `createSqsClient(settings, env)` with your own middleware (tracing,
   * request counting). Defaults to that client without middleware. A client passed in is not destroyed on stop.
   * Build it with `md5: false` (createSqsClient does): the consumer verifies each message's digests itself.
   */
  readonly sqs?: SQSClient;
}

/** A started consumer with its health server. */
export interface RunningConsumer {
  readonly consumer: Consumer;
  readonly healthPort: number;
  stop(): Promise<void>;
}

/**
 * Wires settings, SQS client, consumer, health server and start-up checks together, and starts them.
 * Throws a TypeError when given both a handler and a batch handler, and HealthPortInUseError when
 * HEALTH_PORT is taken.
 */
export async function startConsumer({
  settings,
  env,
  logger,
  handler,
  batchHandler,
  healthHost,
  sqs: givenSqs,
}: StartOptions): Promise<RunningConsumer> {
  if (handler !== undefined && batchHandler !== undefined)
    throw new TypeError("startConsumer takes a handler or a batchHandler, not both");
  const user: Handler =
    batchHandler === undefined ? { handleMessage: handler ?? logMessage } : { handleBatch: batchHandler };
  const metrics = new Metrics();
  const parsedProxy = parseProxySettings(env);
  if (!parsedProxy.ok) throw new Error(`invalid proxy configuration: ${describeProblems(parsedProxy.problems)}`);
  const proxy = summarizeProxy(parsedProxy.value);
  const proxyUrl = proxy.httpsProxy ?? proxy.httpProxy;
  const hints: HintContext = {
    queueUrl: settings.queueUrl,
    region: settings.region,
    roleArn: env.AWS_ROLE_ARN,
    tokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE,
    containerEndpoint: env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
    ...(proxyUrl === undefined ? {} : { proxy: { url: proxyUrl, noProxy: proxy.noProxy } }),
  };
  const classify: Classify = (error) => classifyAwsError(error, hints);
  const sqs = givenSqs ?? createSqsClient(settings, env, new ClockSkew(logger, metrics, classify));
  const limit = memoryLimit();
  const memory = MessageMemory.forLimit(limit);
  const consumer = new Consumer({
    settings,
    sqs,
    handler: user,
    logger,
    metrics,
    classify,
    memory,
  });
  let health: Awaited<ReturnType<typeof startHealthServer>>;
  try {
    health = await startHealthServer(settings.healthPort, consumer.readiness, metrics, consumer.liveness, healthHost);
  } catch (error) {
    if (givenSqs === undefined) sqs.destroy();
    if ((error as { code?: unknown }).code === "EADDRINUSE")
      throw new HealthPortInUseError(settings.healthPort, healthHost, error);
    throw error;
  }
  const { queueUrl, region, ...tunables } = settings;
  const queueType = consumer.fifo ? "fifo" : "standard";
  const handlerForm = user.handleBatch === undefined ? "message" : "batch";
  logger.info(
    { event: "config", queueUrl, queueType, region, handler: handlerForm, ...tunables, healthPort: health.port },
    `consuming ${queueUrl} (${queueType} queue, ${handlerForm} handler)`,
  );
  logMemoryBudget(logger, limit, memory);
  memory.onLargerThanMaximum = (textBytes, maximumMessageSize) =>
    logger.warn(
      { ...memoryFields(limit, memory), maximumMessageSize, textBytes },
      `a message takes ${textBytes} bytes, more than the queue's MaximumMessageSize of ${maximumMessageSize} bytes ` +
        "(sent before the maximum was lowered, after it was raised, or text of two bytes per character): receives " +
        `are charged by SQS's largest message from now on and ask for at most ${memory.largestReceive} messages at once`,
    );
  logProxy(logger, parsedProxy.value);
  if (sqs.config.md5 !== false) {
    logger.warn(
      { event: "config" },
      "the SQS client checks MD5 per ReceiveMessage: one damaged message fails the whole batch; build it with createSqsClient (md5: false) so the consumer checks each message",
    );
  }
  const batchWarning =
    user.handleBatch === undefined ? undefined : batchSizeWarning(settings.batchSize, settings.handlerConcurrency);
  if (batchWarning !== undefined)
    logger.warn(
      { event: "config", batchSize: settings.batchSize, handlerConcurrency: settings.handlerConcurrency },
      `BATCH_SIZE ${settings.batchSize} is above HANDLER_CONCURRENCY ${settings.handlerConcurrency}: ${batchWarning}`,
    );
  const podRegion = env.AWS_REGION?.trim();
  if (podRegion && podRegion !== region) {
    logger.info(
      { event: "region", queueRegion: region, awsRegion: podRegion },
      `the queue is in ${region}, not AWS_REGION ${podRegion}: SQS requests are signed for ${region}, STS is asked in ${podRegion}`,
    );
  }
  consumer.start();
  const checks = new AbortController();
  void logStartupChecks(
    sqs,
    settings,
    env,
    classify,
    logger,
    checks.signal,
    (count) => (consumer.maxReceiveCount = count),
    (maximumMessageSize) => chargeByQueueMaximum(logger, limit, memory, maximumMessageSize),
  );
  return {
    consumer,
    healthPort: health.port,
    async stop() {
      checks.abort();
      await consumer.stop();
      await health.close();
      if (givenSqs === undefined) sqs.destroy();
    },
  };
}

/** How the consumer runs as a process: the user's code, and what `npm start` adds. */
export interface ProcessOptions {
  /** A message handler; defaults to the log handler, one info line per message. */
  readonly handler?: MessageHandler;
  /** A batch handler (the Lambda form) instead. */
  readonly batchHandler?: BatchHandler;
  /**
   * A handler file's exports (`import * as handler from "./handler"`) and its path, as an alternative to
   * `handler` and `batchHandler`: checked at start-up, exit 78 naming the file and what it exports
   * unless it exports exactly one of handleMessage and handleBatch (consumer/handler.ts, for the image
   * and `npm start`).
   */
  readonly handlerFile?: { readonly path: string; readonly exports: Readonly<Record<string, unknown>> };
  /** The health server's address: every interface unless set (see StartOptions.healthHost). */
  readonly healthHost?: string;
  /** The environment to read settings from; defaults to process.env. */
  readonly env?: EnvLike;
  /** Called after a graceful stop, before the process exits (`npm start` stops its emulator). */
  readonly afterStop?: () => Promise<void>;
}

/**
 * Runs the consumer as the process: banner, settings and handler file (exit 78 naming every bad
 * variable, and the file and what it exports), the health port (exit 78 naming HEALTH_PORT when it is
 * taken), signals (SIGTERM/SIGINT stop gracefully, then exit 0), and exit 1 for anything unexpected.
 */
export async function runAsProcess(options: ProcessOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const parsed = parseSettings(env);
  const tracingConfig = parseTracingConfig(env);
  const proxy = parseProxySettings(env);
  const fromFile = options.handlerFile && handlerFromFile(options.handlerFile.path, options.handlerFile.exports);
  if (!parsed.ok || !tracingConfig.ok || !proxy.ok || fromFile?.ok === false) {
    exitInvalidConfig([
      ...(parsed.ok ? [] : parsed.problems),
      ...(tracingConfig.ok ? [] : tracingConfig.problems),
      ...(proxy.ok ? [] : proxy.problems),
      ...(fromFile?.ok === false ? fromFile.problems : []),
    ]);
  }
  const logger = createLogger(parsed.value.logLevel);
  const info = buildInfo();
  logBanner(logger, info);
  const crash = (error: unknown): never => {
    logger.fatal({ event: "crash", err: error }, "unexpected error; exiting");
    process.exit(1);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);

  // Loaded only when tracing is on: off, the SDK and its exporters are never evaluated.
  const tracing =
    tracingConfig.value &&
    (await import("./tracing-sdk.js")).startTracingSdk(tracingConfig.value, info.version, logger, proxy.value);
  const user: Partial<Handler> = fromFile?.value ?? {};
  let running: RunningConsumer;
  try {
    running = await startConsumer({
      settings: parsed.value,
      env,
      logger,
      handler: user.handleMessage ?? options.handler,
      batchHandler: user.handleBatch ?? options.batchHandler,
      healthHost: options.healthHost,
    });
  } catch (error) {
    if (!(error instanceof HealthPortInUseError)) throw error;
    logger.fatal({ event: "health-port-in-use", port: error.context.port, host: error.context.host }, error.message);
    process.exit(EXIT_INVALID_CONFIG);
  }
  const budgetMs = parsed.value.shutdownBudgetSeconds * 1000;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // npm forwards the terminal's Ctrl-C to its child, so one keypress can arrive twice: stop once.
    if (stopping) return;
    stopping = true;
    logger.info({ event: "signal", signal }, `${signal} received`);
    // The hard end of the budget: the graceful stop plans to finish before it, but a call that hangs
    // past its own deadline (or a handler that ignores its abort signal) must not keep the pod until
    // Kubernetes kills it. What could be deleted, or have its visibility changed, by now has been.
    setTimeout(() => {
      logger.warn(
        { event: "shutdown-deadline", budgetSeconds: parsed.value.shutdownBudgetSeconds },
        "shutdown budget exhausted with work still pending; exiting",
      );
      process.exit(0);
    }, budgetMs);
    running
      .stop()
      .then(() => options.afterStop?.())
      .then(() => tracing?.shutdown())
      .then(() => process.exit(0), crash);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/** The fields of the "memory" log lines: the limit, where it came from, the budget, the largest receive. */
function memoryFields(limit: MemoryLimit, memory: MessageMemory) {
  const mib = (bytes: number): number => Math.floor(bytes / 1_048_576);
  return {
    event: "memory",
    limitMiB: mib(limit.bytes),
    limitSource: limit.source,
    budgetMiB: mib(memory.budgetBytes),
    largestReceive: memory.largestReceive,
  };
}

/**
 * Logs the memory budget and what it allows; warns when it cannot hold one receive of SQS's largest message,
 * what receives are charged by until the start-up check reads the queue's MaximumMessageSize.
 */
function logMemoryBudget(logger: Logger, limit: MemoryLimit, memory: MessageMemory): void {
  const fields = memoryFields(limit, memory);
  const of = limit.source === "cgroup" ? "the container's memory limit" : "the limit Node's heap is sized for";
  if (memory.budgetBytes < memory.receiveChargeBytes) {
    logger.warn(
      fields,
      `memory budget ${fields.budgetMiB} MiB of ${of} (${fields.limitMiB} MiB) is too small for one message of SQS's ` +
        "largest size (1 MiB): until the queue's MaximumMessageSize is read (and for good if it is 1 MiB) messages are " +
        "received one at a time, and large ones may still run out of memory; raise the memory limit",
    );
    return;
  }
  logger.info(
    fields,
    `memory budget ${fields.budgetMiB} MiB of ${of} (${fields.limitMiB} MiB): receives ask for at most ` +
      `${fields.largestReceive} messages at once, fewer while held messages fill it`,
  );
}

/**
 * Charges receives by the queue's MaximumMessageSize attribute, bytes (memory.ts `useMaximumMessageSize`),
 * and logs the largest receive when that changes it.
 */
function chargeByQueueMaximum(
  logger: Logger,
  limit: MemoryLimit,
  memory: MessageMemory,
  maximumMessageSize: number,
): void {
  const before = memory.largestReceive;
  memory.useMaximumMessageSize(maximumMessageSize);
  if (memory.largestReceive === before) return;
  const fields = { ...memoryFields(limit, memory), maximumMessageSize };
  logger.info(
    fields,
    `the queue's MaximumMessageSize is ${maximumMessageSize} bytes: receives ask for at most ` +
      `${fields.largestReceive} messages at once, fewer while held messages fill it`,
  );
}

/**
 * Names the proxy SQS, STS and OTLP requests go through, without credentials, and the hosts reached
 * directly (NO_PROXY), and warns of each NO_PROXY entry no agent can honour; says nothing when no proxy is set.
 */
function logProxy(logger: Logger, settings: ProxySettings): void {
  if (!hasProxy(settings)) return;
  const proxy = summarizeProxy(settings);
  const via = [
    ...(proxy.httpsProxy ? [`${proxy.httpsProxy} for https:// (HTTPS_PROXY)`] : []),
    ...(proxy.httpProxy ? [`${proxy.httpProxy} for http:// (HTTP_PROXY)`] : []),
  ].join(", ");
  logger.info(
    { event: "proxy", ...proxy },
    `SQS, STS and OTLP requests go through the proxy ${via}` +
      (proxy.noProxy ? `; hosts NO_PROXY names are reached directly: ${proxy.noProxy}` : "; NO_PROXY is not set"),
  );
  for (const entry of ignoredNoProxyEntries(settings.noProxy ?? "")) {
    logger.warn(
      { event: "proxy", ignoredNoProxy: entry },
      `NO_PROXY entry ${entry} is ignored: Node's agents match no IPv6 CIDR block wider than one address; ` +
        "list the addresses, or a host name, instead",
    );
  }
}

/**
 * Exits 78 (EX_CONFIG) after the version banner and one fatal line naming every problem (`invalid-config`,
 * with the problems as a field too): invalid settings, or a handler file that exports neither form or both.
 */
export function exitInvalidConfig(problems: readonly SettingProblem[]): never {
  const logger = createLogger("info");
  logBanner(logger, buildInfo());
  logger.fatal({ event: "invalid-config", problems }, `invalid configuration: ${describeProblems(problems)}`);
  process.exit(EXIT_INVALID_CONFIG);
}

/**
 * Backoff of the start-up checks after AccessDenied: IAM may grant the permission later, so the check is
 * still retried, but rarely (full jitter up to 5 minutes, from 5 s); the receive loops report the
 * denial on their own calls meanwhile.
 */
export const ACCESS_DENIED_BACKOFF = { baseMs: 5_000, capMs: 300_000 } as const;

/**
 * Logs which credential source the SDK's chain found (once) and what the queue's redrive policy is (the
 * missing-DLQ warning among them), hands its maxReceiveCount to `redrive` (undefined without a
 * redrive policy) and its MaximumMessageSize attribute, bytes, to `maximumMessageSize` (when SQS names it). A failed check (no credentials yet, DNS, a 5xx) is warned about once, then retried at
 * debug with the receive loop's backoff (receive.ts, RECEIVE_BACKOFF), or ACCESS_DENIED_BACKOFF after
 * AccessDenied, until it succeeds once, or `signal` aborts (shutdown). Never rejects.
 */
async function logStartupChecks(
  sqs: SQSClient,
  settings: Settings,
  env: EnvLike,
  classify: Classify,
  logger: Logger,
  signal: AbortSignal,
  redrive: (maxReceiveCount: number | undefined) => void,
  maximumMessageSize: (bytes: number) => void,
): Promise<void> {
  const logged = { credentials: false };
  for (let failures = 0; !signal.aborted; failures++) {
    const failed = await startupCheck(sqs, settings, env, logger, logged, redrive, maximumMessageSize);
    if (failed === undefined) return;
    const classified = classify(failed.error);
    const fields = {
      event: failed.step,
      kind: classified.kind,
      code: classified.code,
      error: classified.message,
      hint: classified.hint,
      failures: failures + 1,
    };
    const what = failed.step === "credentials" ? "no credentials yet" : "could not read the queue's attributes";
    // The receive loops warn about every failed call already; the first failure here is enough, retries at debug.
    if (failures === 0) logger.warn(fields, `${what}: retrying until it succeeds`);
    else logger.debug(fields, what);
    const backoff = classified.kind === "access-denied" ? ACCESS_DENIED_BACKOFF : RECEIVE_BACKOFF;
    await sleep(backoffDelayMs(failures, backoff.baseMs, backoff.capMs), signal);
  }
}

/**
 * One pass of the start-up checks: logs what it found (the credential source only while
 * `logged.credentials` is false, then sets it) and hands the queue's maxReceiveCount to `redrive` and its
 * MaximumMessageSize to `maximumMessageSize`, or returns the step that failed and its error.
 */
async function startupCheck(
  sqs: SQSClient,
  settings: Settings,
  env: EnvLike,
  logger: Logger,
  logged: { credentials: boolean },
  redrive: (maxReceiveCount: number | undefined) => void,
  maximumMessageSize: (bytes: number) => void,
): Promise<{ readonly step: "credentials" | "queue"; readonly error: unknown } | undefined> {
  try {
    const credentials = await sqs.config.credentials();
    if (!logged.credentials)
      logger.info({ event: "credentials", ...summarizeCredentials(credentials, env) }, "credentials resolved");
    logged.credentials = true;
  } catch (error) {
    return { step: "credentials", error };
  }
  let queue: QueueInfo;
  try {
    queue = await describeQueue(sqs, settings.queueUrl);
    redrive(queue.deadLetterTargetArn === undefined ? undefined : queue.maxReceiveCount);
    if (queue.maximumMessageSize !== undefined) maximumMessageSize(queue.maximumMessageSize);
  } catch (error) {
    return { step: "queue", error };
  }
  if (queue.fifo !== isFifoQueueUrl(settings.queueUrl)) {
    logger.warn(
      { event: "queue-type", fifoQueue: queue.fifo },
      "the queue's FifoQueue attribute disagrees with its name: order is kept by the name's .fifo suffix",
    );
  }
  if (queue.deadLetterTargetArn === undefined) {
    logger.warn(
      { event: "queue", ...queue },
      "the queue has no redrive policy: a message that always fails is retried until it expires",
    );
  } else {
    logger.info(
      { event: "queue", ...queue },
      `failed messages move to the DLQ after ${queue.maxReceiveCount} receives`,
    );
  }
  return undefined;
}

/**
 * Credentials come from the AWS SDK's default provider chain only; nothing here fetches, caches or
 * refreshes them. What follows only says, for the start-up log, which source the chain used.
 */

/** The chain's sources as the SDK tags them on resolved credentials (`$source`), in plain words. */
const SOURCE_NAMES: Readonly<Record<string, string>> = {
  CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN: "web identity token (IRSA)",
  CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN: "web identity token from a shared config profile",
  CREDENTIALS_ENV_VARS: "environment variables",
  CREDENTIALS_HTTP: "container credentials endpoint (EKS Pod Identity or ECS)",
  CREDENTIALS_IMDS: "instance metadata (the node's role)",
  CREDENTIALS_PROFILE: "shared config profile",
  CREDENTIALS_PROFILE_SOURCE_PROFILE: "shared config profile (assumed role)",
  CREDENTIALS_PROFILE_NAMED_PROVIDER: "shared config profile (credential source)",
  CREDENTIALS_PROFILE_PROCESS: "shared config profile (credential process)",
  CREDENTIALS_PROFILE_SSO: "shared config profile (SSO)",
  CREDENTIALS_PROFILE_SSO_LEGACY: "shared config profile (legacy SSO)",
  CREDENTIALS_PROCESS: "credential process",
  CREDENTIALS_SSO: "SSO",
  CREDENTIALS_SSO_LEGACY: "legacy SSO",
};

/**
 * The addresses of the EKS Pod Identity Agent (EKS user guide, "pod-id-how-it-works"): credentials from a
 * container endpoint on one of them come from a Pod Identity association.
 */
const POD_IDENTITY_AGENT_HOSTS = new Set(["169.254.170.23", "[fd00:ec2::23]"]);

/** Whether a container credentials URL points at the EKS Pod Identity Agent. */
function isPodIdentityAgent(fullUri: string | undefined): boolean {
  if (fullUri === undefined || fullUri === "") return false;
  try {
    return POD_IDENTITY_AGENT_HOSTS.has(new URL(fullUri).hostname);
  } catch {
    return false;
  }
}

/**
 * What may be logged about credentials: where they came from (the role and token file of IRSA; the
 * endpoint and token file of a container endpoint, never the token) and when they expire, never the keys.
 */
export interface CredentialSummary {
  readonly source: string;
  readonly roleArn?: string;
  readonly tokenFile?: string;
  readonly endpoint?: string;
  readonly expiresAt?: string;
}

/** The parts of resolved credentials this module reads; the keys themselves are never touched. */
export interface ResolvedCredentials {
  readonly expiration?: Date;
  readonly $source?: Readonly<Record<string, string>>;
}

export function summarizeCredentials(credentials: ResolvedCredentials, env: EnvLike): CredentialSummary {
  const tags = Object.keys(credentials.$source ?? {});
  const names = tags.map((tag) => SOURCE_NAMES[tag]).filter((name): name is string => name !== undefined);
  const webIdentity = tags.includes("CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN");
  const container = tags.includes("CREDENTIALS_HTTP");
  const endpoint = container ? env.AWS_CONTAINER_CREDENTIALS_FULL_URI : undefined;
  const tokenFile = webIdentity
    ? env.AWS_WEB_IDENTITY_TOKEN_FILE
    : container
      ? env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
      : undefined;
  return {
    source:
      container && isPodIdentityAgent(endpoint)
        ? "container credentials endpoint (EKS Pod Identity association)"
        : (names[0] ?? "default provider chain"),
    ...(webIdentity && env.AWS_ROLE_ARN ? { roleArn: env.AWS_ROLE_ARN } : {}),
    ...(tokenFile ? { tokenFile } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials.expiration ? { expiresAt: credentials.expiration.toISOString() } : {}),
  };
}

/** What the start-up log says about the queue: enough to spot a queue without a DLQ. */
interface QueueInfo {
  readonly arn?: string;
  readonly visibilityTimeoutSeconds?: number;
  readonly deadLetterTargetArn?: string;
  readonly maxReceiveCount?: number;
  /** The FifoQueue attribute is "true" (SQS leaves it out for standard queues). */
  readonly fifo: boolean;
  /**
   * The MaximumMessageSize attribute, bytes: SQS rejects a larger message when it is sent (SQS API
   * Reference, SetQueueAttributes:
   * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html);
   * messages sent before it was lowered may be larger.
   */
  readonly maximumMessageSize?: number;
}

/** Reads the queue's ARN, visibility timeout, redrive policy, type and largest message (GetQueueAttributes). */
async function describeQueue(sqs: SQSClient, queueUrl: string): Promise<QueueInfo> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["QueueArn", "VisibilityTimeout", "RedrivePolicy", "FifoQueue", "MaximumMessageSize"],
    }),
  );
  const redrive = a.RedrivePolicy
    ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string })
    : undefined;
  return {
    ...(a.QueueArn ? { arn: a.QueueArn } : {}),
    ...(a.VisibilityTimeout ? { visibilityTimeoutSeconds: Number(a.VisibilityTimeout) } : {}),
    ...(redrive?.deadLetterTargetArn ? { deadLetterTargetArn: redrive.deadLetterTargetArn } : {}),
    fifo: a.FifoQueue === "true",
    ...(a.MaximumMessageSize ? { maximumMessageSize: Number(a.MaximumMessageSize) } : {}),
    ...(redrive?.maxReceiveCount !== undefined ? { maxReceiveCount: Number(redrive.maxReceiveCount) } : {}),
  };
}

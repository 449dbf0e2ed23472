/**
 * The one settings schema shared by the consumer and the infrastructure.
 *
 * The consumer parses its environment with `parseSettings`; the Pulumi program validates the stack's
 * `consumer` config block with `validateTunables` and renders the Deployment's environment with
 * `renderTunablesEnv`. Because both sides use this table, a value the consumer would reject at start-up
 * is rejected at `pulumi preview`, and the Deployment's env is exactly what the consumer reads back.
 */

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Every setting except the queue's address: what a stack may tune. */
export interface Tunables {
  readonly waitTimeSeconds: number;
  readonly maxMessages: number;
  readonly receiveLoops: number;
  readonly handlerConcurrency: number;
  readonly handlerTimeoutSeconds: number;
  readonly batchSize: number;
  readonly batchWindowSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly retryBaseSeconds: number;
  readonly retryMaxSeconds: number;
  readonly shutdownBudgetSeconds: number;
  readonly logLevel: LogLevel;
  readonly logBodyMaxChars: number;
  readonly healthPort: number;
}

/** Everything the consumer needs at start-up. */
export interface Settings extends Tunables {
  readonly queueUrl: string;
  readonly region: string;
}

interface IntSpec {
  readonly kind: "int";
  readonly env: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly description: string;
}

interface EnumSpec<T extends string> {
  readonly kind: "enum";
  readonly env: string;
  readonly default: T;
  readonly values: readonly T[];
  readonly description: string;
}

export type TunableSpec = IntSpec | EnumSpec<LogLevel>;

/** SQS keeps a received message invisible for at most 12 hours in total. */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/**
 * Lambda's limits for an SQS event source mapping, which BATCH_SIZE and BATCH_WINDOW_SECONDS mirror:
 * BatchSize up to 10,000 (10 on FIFO queues, a limit this consumer does not need: it keeps a group's
 * order itself), MaximumBatchingWindowInSeconds 0-300, and a window of at least 1 s for a BatchSize
 * above 10. Sources: Lambda developer guide, "Lambda parameters for Amazon SQS event source mappings";
 * Lambda API reference, CreateEventSourceMapping.
 */
export const MAX_BATCH_SIZE = 10_000;
export const MAX_BATCH_WINDOW_SECONDS = 300;
/** The largest BATCH_SIZE that needs no batching window: what one ReceiveMessage can bring. */
export const MAX_BATCH_SIZE_WITHOUT_WINDOW = 10;

/** The schema: type, default, limits and a one-line description of every tunable. */
export const TUNABLES: { readonly [K in keyof Tunables]: TunableSpec } = {
  waitTimeSeconds: {
    kind: "int",
    env: "WAIT_TIME_SECONDS",
    default: 20,
    min: 0,
    max: 20,
    unit: "s",
    description: "Long-poll wait per ReceiveMessage; 20 keeps an idle loop near 3 requests a minute.",
  },
  maxMessages: {
    kind: "int",
    env: "MAX_MESSAGES",
    default: 10,
    min: 1,
    max: 10,
    unit: "messages",
    description: "Most messages asked for in one ReceiveMessage (never more than free handler slots).",
  },
  receiveLoops: {
    kind: "int",
    env: "RECEIVE_LOOPS",
    default: 2,
    min: 1,
    max: 64,
    unit: "loops",
    description: "Concurrent long-poll receive loops; more loops overlap round trips under load.",
  },
  handlerConcurrency: {
    kind: "int",
    env: "HANDLER_CONCURRENCY",
    default: 100,
    min: 1,
    max: 10_000,
    unit: "messages",
    description: "Most messages handled at once; receiving pauses while every slot is busy.",
  },
  handlerTimeoutSeconds: {
    kind: "int",
    env: "HANDLER_TIMEOUT_SECONDS",
    default: 60,
    min: 1,
    max: 43_000,
    unit: "s",
    description: "Hard limit for one message's handler; a handler that runs longer counts as failed.",
  },
  batchSize: {
    kind: "int",
    env: "BATCH_SIZE",
    default: 10,
    min: 1,
    max: MAX_BATCH_SIZE,
    unit: "messages",
    description:
      "Batch handlers (handleBatch) only: most messages per call, like Lambda's BatchSize; above 10 needs BATCH_WINDOW_SECONDS.",
  },
  batchWindowSeconds: {
    kind: "int",
    env: "BATCH_WINDOW_SECONDS",
    default: 0,
    min: 0,
    max: MAX_BATCH_WINDOW_SECONDS,
    unit: "s",
    description:
      "Batch handlers only: how long to gather a batch, like Lambda's MaximumBatchingWindowInSeconds; 0 calls with what one receive brought.",
  },
  visibilityTimeoutSeconds: {
    kind: "int",
    env: "VISIBILITY_TIMEOUT_SECONDS",
    default: 30,
    min: 5,
    max: SQS_MAX_VISIBILITY_SECONDS,
    unit: "s",
    description: "Visibility asked for on receive; a heartbeat extends it while a handler still runs.",
  },
  retryBaseSeconds: {
    kind: "int",
    env: "RETRY_BASE_SECONDS",
    default: 1,
    min: 0,
    max: SQS_MAX_VISIBILITY_SECONDS,
    unit: "s",
    description: "A failed message reappears after base x 2^(receives-1) seconds; 0 waits out the visibility timeout.",
  },
  retryMaxSeconds: {
    kind: "int",
    env: "RETRY_MAX_SECONDS",
    default: 60,
    min: 0,
    max: SQS_MAX_VISIBILITY_SECONDS,
    unit: "s",
    description: "Upper bound of that retry delay.",
  },
  shutdownBudgetSeconds: {
    kind: "int",
    env: "SHUTDOWN_BUDGET_SECONDS",
    default: 25,
    min: 1,
    max: 3_600,
    unit: "s",
    description:
      "Time after SIGTERM to finish in-flight messages and change the visibility of the rest; above WAIT_TIME_SECONDS, since that waits for hung-up receives to run out.",
  },
  logLevel: {
    kind: "enum",
    env: "LOG_LEVEL",
    default: "info",
    values: LOG_LEVELS,
    description: "Least severe level written to stdout.",
  },
  logBodyMaxChars: {
    kind: "int",
    env: "LOG_BODY_MAX_CHARS",
    default: 256,
    min: 0,
    max: 1_048_576,
    unit: "code points",
    description: "Message bodies are logged up to this many Unicode code points (an emoji is one), then truncated.",
  },
  healthPort: {
    kind: "int",
    env: "HEALTH_PORT",
    default: 8080,
    min: 0,
    max: 65_535,
    unit: "port",
    description: "Port of /livez, /readyz and /metrics; 0 picks a free port (logged at start-up).",
  },
};

export const TUNABLE_KEYS = Object.keys(TUNABLES) as (keyof Tunables)[];

/** The queue's address: not tunable per stack, since the program creates the queue. */
export const CONNECTION = {
  queueUrl: {
    env: "QUEUE_URL",
    description: "URL of the queue to consume, e.g. https://sqs.eu-west-1.amazonaws.com/123456789012/orders.",
  },
  region: {
    env: "AWS_REGION",
    description:
      "The pod's AWS region (the EKS webhook sets it), used for STS. SQS requests are signed for the region " +
      "QUEUE_URL names (sqs.<region>.amazonaws.com), which may differ (logged at start-up); " +
      "required only when QUEUE_URL names none.",
  },
} as const;

export const DEFAULT_TUNABLES: Tunables = Object.fromEntries(
  TUNABLE_KEYS.map((key) => [key, TUNABLES[key].default]),
) as unknown as Tunables;

/** One reason a setting was rejected. `key` is the name the caller used: an env var or a config key. */
export interface SettingProblem {
  readonly key: string;
  readonly reason: string;
}

export type ParseResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly SettingProblem[] };

/** Formats problems as one message naming every bad key, in schema order. */
export function describeProblems(problems: readonly SettingProblem[]): string {
  return problems.map((p) => `${p.key}: ${p.reason}`).join("; ");
}

export type EnvLike = Readonly<Record<string, string | undefined>>;

/**
 * Parses the consumer's settings from an environment: every problem is reported, not just the first.
 * Unset or empty variables take their defaults.
 */
export function parseSettings(env: EnvLike): ParseResult<Settings> {
  const problems: SettingProblem[] = [];
  const queueUrl = nonEmpty(env[CONNECTION.queueUrl.env]);
  const region = nonEmpty(env[CONNECTION.region.env]);
  const target = queueUrl === undefined ? undefined : checkQueueUrl(queueUrl);
  if (queueUrl === undefined)
    problems.push({ key: CONNECTION.queueUrl.env, reason: "required: the URL of the queue to consume" });
  if (target?.problem !== undefined) problems.push({ key: CONNECTION.queueUrl.env, reason: target.problem });
  const regionProblem = checkRegion(region, target);
  if (regionProblem !== undefined) problems.push({ key: CONNECTION.region.env, reason: regionProblem });

  const tunables = parseTunables(env);
  if (!tunables.ok) problems.push(...tunables.problems);

  if (!tunables.ok || problems.length > 0 || queueUrl === undefined) return { ok: false, problems };
  // The queue's own region wins: a pod may read a queue in another region than its cluster's.
  return { ok: true, value: { ...tunables.value, queueUrl, region: (target?.region ?? region)! } };
}

/** Parses only the tunables from an environment (unset means default), named by variable. */
export function parseTunables(env: EnvLike): ParseResult<Tunables> {
  const raw: Record<string, unknown> = {};
  for (const key of TUNABLE_KEYS) raw[key] = env[TUNABLES[key].env];
  return checkTunables(raw, (key) => TUNABLES[key].env, "env");
}

/**
 * Validates tunables given as an object keyed by field name (the stack's `consumer` config block).
 * Values may be numbers or numeric strings; unknown keys are problems, so a typo never passes silently.
 */
export function validateTunables(input: Readonly<Record<string, unknown>>, keyPrefix = ""): ParseResult<Tunables> {
  const unknown: SettingProblem[] = Object.keys(input)
    .filter((key) => !(key in TUNABLES))
    .map((key) => ({ key: `${keyPrefix}${key}`, reason: `unknown setting; known: ${TUNABLE_KEYS.join(", ")}` }));
  const result = checkTunables(input, (key) => `${keyPrefix}${key}`, "config");
  if (unknown.length === 0) return result;
  return { ok: false, problems: [...(result.ok ? [] : result.problems), ...unknown] };
}

/** Renders tunables as the environment variables the consumer reads back with `parseSettings`. */
export function renderTunablesEnv(tunables: Tunables): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of TUNABLE_KEYS) env[TUNABLES[key].env] = String(tunables[key]);
  return env;
}

/** Renders complete settings, connection included, as environment variables. */
export function renderSettingsEnv(settings: Settings): Record<string, string> {
  return {
    [CONNECTION.queueUrl.env]: settings.queueUrl,
    [CONNECTION.region.env]: settings.region,
    ...renderTunablesEnv(settings),
  };
}

/**
 * The queue's own visibility timeout, derived from the handler timeout: a receiver that never extends
 * visibility still finishes (or gives up on) a message before SQS hands it to someone else.
 */
export function queueVisibilityTimeoutSeconds(tunables: Pick<Tunables, "handlerTimeoutSeconds">): number {
  return Math.min(SQS_MAX_VISIBILITY_SECONDS, tunables.handlerTimeoutSeconds + QUEUE_VISIBILITY_MARGIN_SECONDS);
}

/** Head-room between the handler's hard limit and the queue's visibility timeout. */
export const QUEUE_VISIBILITY_MARGIN_SECONDS = 10;

/**
 * How long Kubernetes should wait after SIGTERM: the shutdown budget plus time to make unfinished
 * messages visible again and flush logs, so the process always exits on its own before SIGKILL.
 */
export function terminationGracePeriodSeconds(tunables: Pick<Tunables, "shutdownBudgetSeconds">): number {
  return tunables.shutdownBudgetSeconds + TERMINATION_MARGIN_SECONDS;
}

export const TERMINATION_MARGIN_SECONDS = 10;

/** SQS requires a FIFO queue's name to end in `.fifo`, and no other queue name may contain a dot. */
export function isFifoQueueUrl(queueUrl: string): boolean {
  return new URL(queueUrl).pathname.endsWith(".fifo");
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

interface QueueTarget {
  /** The region named by the URL's host, if it names one. */
  readonly region?: string;
  readonly problem?: string;
}

function checkQueueUrl(queueUrl: string): QueueTarget {
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch {
    return { problem: `"${queueUrl}" is not a URL` };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { problem: `must be an http(s) URL, got ${url.protocol}` };
  const segments = url.pathname.split("/").filter(Boolean);
  if (segments.length !== 2) return { problem: `path must be /<account-id>/<queue-name>, got "${url.pathname}"` };
  const host = url.hostname.split(".");
  if (host[0] === "sqs" && host[1] !== undefined && REGION_PATTERN.test(host[1])) return { region: host[1] };
  if (host[1] === "queue" && host[0] !== undefined && REGION_PATTERN.test(host[0])) return { region: host[0] };
  return {};
}

function checkRegion(region: string | undefined, target: QueueTarget | undefined): string | undefined {
  if (region !== undefined && !REGION_PATTERN.test(region))
    return `"${region}" is not an AWS region name (e.g. eu-west-1)`;
  if (region === undefined && target !== undefined && target.problem === undefined && target.region === undefined) {
    return "required: QUEUE_URL does not name a region";
  }
  return undefined;
}

function checkTunables(
  raw: Readonly<Record<string, unknown>>,
  nameOf: (key: keyof Tunables) => string,
  source: "env" | "config",
): ParseResult<Tunables> {
  const problems: SettingProblem[] = [];
  const value: Record<string, unknown> = {};
  /** Keys whose own value was bad: rules across keys skip them, and judge whatever else parsed. */
  const bad = new Set<keyof Tunables>();
  for (const key of TUNABLE_KEYS) {
    const spec = TUNABLES[key];
    const given = raw[key];
    if (given === undefined || given === null || (typeof given === "string" && given.trim() === "")) {
      value[key] = spec.default;
      continue;
    }
    const checked = spec.kind === "int" ? checkInt(spec, given, source) : checkEnum(spec, given);
    if (typeof checked === "string") {
      problems.push({ key: nameOf(key), reason: checked });
      bad.add(key);
    } else value[key] = checked.value;
  }
  const t = value as unknown as Tunables;
  const good = (...keys: (keyof Tunables)[]): boolean => keys.every((key) => !bad.has(key));
  if (good("retryMaxSeconds", "retryBaseSeconds") && t.retryMaxSeconds < t.retryBaseSeconds) {
    problems.push({
      key: nameOf("retryMaxSeconds"),
      reason: `${t.retryMaxSeconds} is below ${nameOf("retryBaseSeconds")} (${t.retryBaseSeconds})`,
    });
  }
  if (
    good("batchSize", "batchWindowSeconds") &&
    t.batchSize > MAX_BATCH_SIZE_WITHOUT_WINDOW &&
    t.batchWindowSeconds === 0
  ) {
    problems.push({
      key: nameOf("batchSize"),
      reason:
        `${t.batchSize} needs ${nameOf("batchWindowSeconds")} of at least 1 s: one receive brings at most ` +
        `${MAX_BATCH_SIZE_WITHOUT_WINDOW} messages, and a larger batch is gathered over the window (Lambda has the same rule)`,
    });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: t };
}

function checkInt(spec: IntSpec, given: unknown, source: "env" | "config"): { value: number } | string {
  const text = typeof given === "number" ? String(given) : typeof given === "string" ? given.trim() : undefined;
  if (text === undefined || (source === "env" && typeof given !== "string")) {
    return `must be a whole number of ${spec.unit}, got ${JSON.stringify(given)}`;
  }
  if (!/^-?\d+$/.test(text)) return `must be a whole number of ${spec.unit}, got "${text}"`;
  const n = Number(text);
  if (n < spec.min || n > spec.max) return `must be between ${spec.min} and ${spec.max} ${spec.unit}, got ${n}`;
  return { value: n };
}

function checkEnum(spec: EnumSpec<LogLevel>, given: unknown): { value: LogLevel } | string {
  const text = typeof given === "string" ? given.trim().toLowerCase() : undefined;
  const match = spec.values.find((v) => v === text);
  return match === undefined
    ? `must be one of ${spec.values.join(", ")}, got ${JSON.stringify(given)}`
    : { value: match };
}

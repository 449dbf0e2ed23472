/**
 * Where static AWS credentials can hide in a resource's properties, and how they look. The scan walks
 * every property of every resource (env and envFrom entries of containers, init and ephemeral
 * containers, Secret and ConfigMap data, annotations and labels, command lines, Helm values, user data,
 * any provider's inputs), decodes base64 strings and JSON strings it meets, and reports names and
 * shapes of credentials, never their values.
 * Key formats: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
 * Variable and file names: https://docs.aws.amazon.com/sdkref/latest/guide/feature-static-credentials.html
 */
import { isUnknownValueError } from "./undecided";
import { isRecord } from "./values";

/** Names (compared without separators, any case) that carry a static credential. */
const CREDENTIAL_NAMES = new Set([
  "awsaccesskeyid",
  "awssecretaccesskey",
  "awssessiontoken",
  "awssecuritytoken",
  "awsaccesskey",
  "awssecretkey",
  "secretaccesskey",
]);

/**
 * Blocks whose `accessKey` and `secretKey` are an AWS key pair (Secret references): the Prometheus
 * Operator's `sigv4` (AlertmanagerConfig snsConfigs, Prometheus remoteWrite, Alertmanager) and
 * `ec2SDConfigs` (ScrapeConfig). Source: prometheus-operator API reference, types `Sigv4` and `EC2SDConfig`.
 */
const AWS_KEY_PAIR_BLOCKS = new Set(["sigv4", "ec2sdconfigs"]);
const KEY_PAIR_NAMES = new Set(["accesskey", "secretkey"]);

/** Whether `path` ends in a block whose accessKey / secretKey are AWS keys (list indexes ignored). */
function inKeyPairBlock(path: string): boolean {
  const last =
    path
      .replace(/(\[\d+\])+$/, "")
      .split(/[.\]]/)
      .pop() ?? "";
  return AWS_KEY_PAIR_BLOCKS.has(normalisedName(last));
}

/** Access key IDs: a four-letter prefix for the key kind, then 16 upper-case letters or digits. */
const ACCESS_KEY_ID = /(?<![A-Z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/;
/** An assignment or flag of a credential in text: credentials files, env files, YAML, command lines. */
const CREDENTIAL_ASSIGNMENT =
  /aws[-_]?(secret[-_]?access[-_]?key|session[-_]?token|access[-_]?key[-_]?id)"?\s*[=:]|--aws[-_]?(secret[-_]?access[-_]?key|session[-_]?token|access[-_]?key[-_]?id)\b/i;
const BASE64 = /^[A-Za-z0-9+/]{16,}={0,2}$/;
const MAX_DEPTH = 40;

function normalisedName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAMES.has(normalisedName(name));
}

/** What a text reveals, or undefined. */
function textFinding(text: string): string | undefined {
  if (ACCESS_KEY_ID.test(text)) return "holds what looks like an AWS access key ID";
  if (CREDENTIAL_ASSIGNMENT.test(text))
    return "holds an AWS credential assignment (a credentials file, env file or flag)";
  return undefined;
}

/** A base64 string's text, when it decodes to printable UTF-8. */
function decodedBase64(value: string): string | undefined {
  if (!BASE64.test(value) || value.length % 4 !== 0) return undefined;
  const text = Buffer.from(value, "base64").toString("utf8");
  return /^[\t\n\r\x20-\x7e]*$/.test(text) ? text : undefined;
}

function parsedJson(value: string): unknown {
  const trimmed = value.trim();
  if (!(trimmed.startsWith("{") || trimmed.startsWith("["))) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

export interface CredentialFinding {
  /** e.g. `spec.template.spec.initContainers[0].env[1]`. */
  readonly path: string;
  readonly finding: string;
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

/** Reads `container[key]` through the engine's proxy; `UNKNOWN` when the value is unknown at preview. */
const UNKNOWN = Symbol("unknown");
function read(container: object, key: string | number): unknown {
  try {
    return (container as Record<string | number, unknown>)[key];
  } catch (error) {
    if (isUnknownValueError(error)) return UNKNOWN;
    throw error;
  }
}

/**
 * Every place in `value` that carries a static AWS credential. Paths whose value is unknown at preview
 * are passed to `unknown` and skipped; the rest is still scanned.
 */
export function scanForCredentials(
  value: unknown,
  unknown: (path: string) => void,
  path = "",
  depth = 0,
): CredentialFinding[] {
  if (depth > MAX_DEPTH) return [];
  if (value === UNKNOWN) {
    unknown(path);
    return [];
  }
  if (typeof value === "string") {
    const direct = textFinding(value);
    if (direct !== undefined) return [{ path, finding: direct }];
    const json = parsedJson(value);
    if (json !== undefined) return scanForCredentials(json, unknown, `${path} (JSON)`, depth + 1);
    const decoded = decodedBase64(value);
    if (decoded !== undefined) return scanForCredentials(decoded, unknown, `${path} (base64)`, depth + 1);
    return [];
  }
  if (Array.isArray(value)) {
    const findings: CredentialFinding[] = [];
    for (let index = 0; index < value.length; index += 1)
      findings.push(...scanForCredentials(read(value, index), unknown, join(path, index), depth + 1));
    return findings;
  }
  if (!isRecord(value)) return [];
  // {name: AWS_SECRET_ACCESS_KEY, value | valueFrom}: an env entry, or a secretKeyRef's key. One finding each.
  for (const field of ["name", "key"]) {
    const named = read(value, field);
    if (typeof named === "string" && isCredentialName(named))
      return [{ path, finding: `is named "${named}", a static AWS credential` }];
  }
  const findings: CredentialFinding[] = [];
  const keyPairBlock = inKeyPairBlock(path);
  for (const key of Object.keys(value)) {
    if (isCredentialName(key) || (keyPairBlock && KEY_PAIR_NAMES.has(normalisedName(key)))) {
      findings.push({ path: join(path, key), finding: "is a static AWS credential" });
      continue;
    }
    findings.push(...scanForCredentials(read(value, key), unknown, join(path, key), depth + 1));
  }
  return findings;
}

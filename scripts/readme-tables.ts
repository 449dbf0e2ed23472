// Generates reference text from the code it describes, so the two cannot drift: docs/CONSUMER.md's tables
// (the consumer's settings and error kinds) and Pulumi.yaml's `config:` section (infra/config/keys.ts).
// `npm run docs` rewrites them, and a test fails when either file is out of date.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { AWS_ERROR_KINDS } from "../consumer/src/errors";
import { CONNECTION, TUNABLES, TUNABLE_KEYS } from "../consumer/src/settings";
import { CONFIG_KEYS, DEFAULT_REGION } from "../infra/config";

export const CONSUMER_DOC = join(__dirname, "..", "docs", "CONSUMER.md");
export const PROJECT_FILE = join(__dirname, "..", "Pulumi.yaml");

export function settingsTable(): string {
  const rows = [
    "| Variable | Default | Limits | What it does |",
    "|---|---|---|---|",
    `| \`${CONNECTION.queueUrl.env}\` | required (\`npm start\` creates a local queue) | http(s) URL | ${CONNECTION.queueUrl.description} |`,
    `| \`${CONNECTION.region.env}\` | from \`QUEUE_URL\` | AWS region | ${CONNECTION.region.description} |`,
  ];
  for (const key of TUNABLE_KEYS) {
    const spec = TUNABLES[key];
    const limits = spec.kind === "int" ? `${spec.min}-${spec.max} ${spec.unit}` : spec.values.join(", ");
    rows.push(`| \`${spec.env}\` | \`${spec.default}\` | ${limits} | ${spec.description} |`);
  }
  return rows.join("\n");
}

export function errorKindsTable(): string {
  return [
    "| Kind | Meaning |",
    "|---|---|",
    ...Object.entries(AWS_ERROR_KINDS).map(([kind, meaning]) => `| \`${kind}\` | ${meaning} |`),
  ].join("\n");
}

const TABLES: Record<string, () => string> = { settings: settingsTable, "error-kinds": errorKindsTable };

/** docs/CONSUMER.md with every generated table replaced by its current content. */
export function renderConsumerDoc(doc: string): string {
  let out = doc;
  for (const [name, render] of Object.entries(TABLES)) {
    const pattern = new RegExp(`(<!-- ${name}:begin -->\\n)[\\s\\S]*?(\\n<!-- ${name}:end -->)`);
    if (!pattern.test(out))
      throw new Error(`docs/CONSUMER.md has no <!-- ${name}:begin --> ... <!-- ${name}:end --> block`);
    out = out.replace(pattern, (_, begin: string, end: string) => `${begin}${render()}${end}`);
  }
  return out;
}

/**
 * Pulumi.yaml's `config:` map: the default region (a plain value: another namespace's key may carry nothing
 * else), then every key of CONFIG_KEYS with its type, default and description, lists as lists of strings.
 */
export function projectConfig(): Record<string, unknown> {
  return {
    "aws:region": DEFAULT_REGION,
    ...Object.fromEntries(
      Object.entries(CONFIG_KEYS).map(([key, spec]) => [
        key,
        {
          type: spec.type,
          ...(spec.type === "array" ? { items: { type: "string" } } : {}),
          default: spec.default,
          description: spec.description,
        },
      ]),
    ),
  };
}

/**
 * The project file with its `config:` section, which runs to the end of the file, regenerated. YAML 1.1
 * quoting, so that no YAML reader takes a string default such as "off" for a boolean.
 */
export function renderProjectFile(projectFile: string): string {
  const start = projectFile.search(/^config:$/m);
  if (start < 0) throw new Error("Pulumi.yaml has no top-level config: section");
  return projectFile.slice(0, start) + YAML.stringify({ config: projectConfig() }, { lineWidth: 0, version: "1.1" });
}

if (require.main === module) {
  writeFileSync(CONSUMER_DOC, renderConsumerDoc(readFileSync(CONSUMER_DOC, "utf8")));
  writeFileSync(PROJECT_FILE, renderProjectFile(readFileSync(PROJECT_FILE, "utf8")));
  console.log("docs/CONSUMER.md's tables and Pulumi.yaml's config section regenerated");
}

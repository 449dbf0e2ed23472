// Generates the README's reference tables from the code they describe, so the two cannot drift:
// `npm run docs` rewrites them, and a test fails when the README is out of date.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AWS_ERROR_KINDS } from "../consumer/src/errors";
import { CONNECTION, TUNABLES, TUNABLE_KEYS } from "../consumer/src/settings";

export const README = join(__dirname, "..", "README.md");

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

/** The README with every generated table replaced by its current content. */
export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, render] of Object.entries(TABLES)) {
    const pattern = new RegExp(`(<!-- ${name}:begin -->\\n)[\\s\\S]*?(\\n<!-- ${name}:end -->)`);
    if (!pattern.test(out)) throw new Error(`README.md has no <!-- ${name}:begin --> ... <!-- ${name}:end --> block`);
    out = out.replace(pattern, (_, begin: string, end: string) => `${begin}${render()}${end}`);
  }
  return out;
}

if (require.main === module) {
  writeFileSync(README, renderReadme(readFileSync(README, "utf8")));
  console.log("README.md tables regenerated");
}

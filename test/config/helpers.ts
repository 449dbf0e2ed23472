/** Shared by the per-concern config tests: parse a config map for stack acme/sqs-eks-consumer/dev. */
import assert from "node:assert/strict";
import { parseStackConfig, type ConfigResult, type StackConfig } from "../../infra/config";

const base = { project: "sqs-eks-consumer", stack: "dev", organization: "acme" };

export function parse(values: Record<string, string>): ConfigResult {
  return parseStackConfig({ ...base, values });
}

export function valid(values: Record<string, string>): StackConfig {
  const result = parse(values);
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems));
  return result.value;
}

/** The problems of an invalid config, as key -> reason. */
export function problems(values: Record<string, string>): Map<string, string> {
  const result = parse(values);
  assert.ok(!result.ok, "expected the config to be rejected");
  return new Map(result.problems.map((p) => [p.key, p.reason]));
}

export const k = (key: string) => `sqs-eks-consumer:${key}`;

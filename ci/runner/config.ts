/**
 * The runner stack's configuration (ci/runner/Pulumi.yaml), validated in full before anything is created:
 * one error names every bad key. Limits come from AWS CodeBuild: build timeouts of 5 to 2160 minutes
 * (CodeBuild API reference, CreateProject `timeoutInMinutes`), the compute types of the Linux and ARM
 * container environments (CodeBuild user guide, "Build environment compute modes and types").
 */

/** The Pulumi project of the runner (ci/runner/Pulumi.yaml `name`). */
export const RUNNER_PROJECT = "sqs-eks-consumer-runner";

/** CodeBuild compute types offered for both LINUX_CONTAINER and ARM_CONTAINER environments. */
export const COMPUTE_TYPES = [
  "BUILD_GENERAL1_SMALL",
  "BUILD_GENERAL1_MEDIUM",
  "BUILD_GENERAL1_LARGE",
  "BUILD_GENERAL1_XLARGE",
  "BUILD_GENERAL1_2XLARGE",
] as const;
export type ComputeType = (typeof COMPUTE_TYPES)[number];

/** CreateProject `timeoutInMinutes`: 5 to 2160. */
export const BUILD_TIMEOUT_MINUTES = { min: 5, max: 2160 } as const;

export interface RunnerConfig {
  /** `<organization>/<project>/<stack>` of the cluster stack. */
  readonly clusterStack: string;
  /** `<owner>/<repo>`. */
  readonly repository: string;
  readonly connectionArn: string;
  /** Workflow names whose jobs the runner takes. */
  readonly workflows: readonly string[];
  /**
   * Numeric GitHub account IDs whose workflow jobs the runner takes (the webhook's `sender.id`: who pushed, opened
   * or re-ran); anyone else's job, a fork's pull request included, never reaches the VPC.
   */
  readonly allowedActorIds: readonly string[];
  readonly computeType: ComputeType;
  readonly buildTimeoutMinutes: number;
}

export interface RunnerConfigProblem {
  readonly key: string;
  readonly reason: string;
}

const STACK_PATH = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/;
const REPOSITORY = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;
const CONNECTION_ARN =
  /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/;

/**
 * Reads the runner's keys from the stack's config map (`<project>:<key>` -> string, objects and arrays as
 * JSON, as the Pulumi CLI passes them); `project` is the running project's name.
 */
export function parseRunnerConfig(
  values: Readonly<Record<string, string>>,
  project = RUNNER_PROJECT,
): { ok: true; value: RunnerConfig } | { ok: false; problems: RunnerConfigProblem[] } {
  const problems: RunnerConfigProblem[] = [];
  const key = (name: string) => `${project}:${name}`;
  const get = (name: string) => values[key(name)]?.trim() ?? "";
  const require = (name: string, pattern: RegExp, shape: string): string => {
    const value = get(name);
    if (!pattern.test(value)) problems.push({ key: key(name), reason: `must be ${shape}, got "${value}"` });
    return value;
  };
  const clusterStack = require("clusterStack", STACK_PATH, "<organization>/sqs-eks-consumer/<stack>");
  const repository = require("repository", REPOSITORY, "<owner>/<repo> on GitHub");
  const connectionArn = require("connectionArn", CONNECTION_ARN, "an AWS CodeConnections connection ARN");

  let workflows: string[] = [];
  try {
    const parsed: unknown = JSON.parse(get("workflows") || "[]");
    if (Array.isArray(parsed) && parsed.every((item) => typeof item === "string" && item.trim() !== ""))
      workflows = parsed as string[];
    else throw new Error("not a list of names");
  } catch {
    problems.push({ key: key("workflows"), reason: "must be a list of workflow names" });
  }
  if (workflows.length === 0 && !problems.some((p) => p.key === key("workflows")))
    problems.push({ key: key("workflows"), reason: "list at least one workflow, e.g. [Deploy]" });

  let allowedActorIds: string[] = [];
  try {
    const parsed: unknown = JSON.parse(get("allowedActorIds") || "[]");
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((item) => /^[1-9]\d*$/.test(String(item))))
      allowedActorIds = parsed.map(String);
    else throw new Error("not a list of account IDs");
  } catch {
    problems.push({
      key: key("allowedActorIds"),
      reason: "list at least one numeric GitHub account ID (`gh api users/<login> --jq .id`), e.g. [4242]",
    });
  }

  const computeType = (get("computeType") || "BUILD_GENERAL1_MEDIUM") as ComputeType;
  if (!COMPUTE_TYPES.includes(computeType))
    problems.push({
      key: key("computeType"),
      reason: `must be one of ${COMPUTE_TYPES.join(", ")}, got "${computeType}"`,
    });

  const timeoutText = get("buildTimeoutMinutes") || "120";
  const buildTimeoutMinutes = Number(timeoutText);
  if (
    !Number.isInteger(buildTimeoutMinutes) ||
    buildTimeoutMinutes < BUILD_TIMEOUT_MINUTES.min ||
    buildTimeoutMinutes > BUILD_TIMEOUT_MINUTES.max
  ) {
    problems.push({
      key: key("buildTimeoutMinutes"),
      reason: `must be a whole number of minutes from ${BUILD_TIMEOUT_MINUTES.min} to ${BUILD_TIMEOUT_MINUTES.max} (CodeBuild's limits), got "${timeoutText}"`,
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: { clusterStack, repository, connectionArn, workflows, allowedActorIds, computeType, buildTimeoutMinutes },
  };
}

/**
 * Runs the Pulumi program under mocks in a child process (one fresh Pulumi runtime per run) and returns what
 * it registered. Scenarios are built from config the way the Pulumi CLI passes it: Pulumi.yaml's project
 * defaults merged under the stack's own values, every value a string (objects and arrays as JSON).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import YAML from "yaml";
import type { RecordedResource as PackResource } from "../../policies/offline/evaluate";
import type { ExistingCluster, ExistingSubnet, ProgramRun, RecordedResource, Scenario, StackOutputs } from "./mocks";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT = "sqs-eks-consumer";
export const ORGANIZATION = "organization";

const RUNNER = path.join(__dirname, "program-runner.mjs");
const run = promisify(execFile);

export type ConfigValue = string | number | boolean | readonly unknown[] | Readonly<Record<string, unknown>>;

/**
 * Pulumi.yaml's project config merged with a stack's values, as the CLI hands it to the program: keys without
 * a namespace belong to the project (`project`, by default the name this repository ships with).
 */
export async function cliConfig(
  stackValues: Readonly<Record<string, ConfigValue>>,
  project = PROJECT,
): Promise<Record<string, string>> {
  const projectFile = YAML.parse(await readFile(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, ConfigValue | { default?: ConfigValue; value?: ConfigValue }>;
  };
  const merged: Record<string, string> = {};
  for (const [key, declaration] of Object.entries(projectFile.config)) {
    const fullKey = key.includes(":") ? key : `${project}:${key}`;
    const value =
      typeof declaration === "object" && declaration !== null && !Array.isArray(declaration)
        ? ((declaration as { default?: ConfigValue; value?: ConfigValue }).default ??
          (declaration as { value?: ConfigValue }).value)
        : declaration;
    if (value !== undefined) merged[fullKey] = asConfigString(value);
  }
  for (const [key, value] of Object.entries(stackValues))
    merged[key.includes(":") ? key : `${project}:${key}`] = asConfigString(value);
  return merged;
}

/** A stack file's config (e.g. Pulumi.dev.yaml). */
export async function stackFileValues(stack: string): Promise<Record<string, ConfigValue>> {
  const file = YAML.parse(await readFile(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, ConfigValue>;
  };
  return file.config;
}

function asConfigString(value: ConfigValue): string {
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export interface ScenarioOptions {
  readonly loader?: Scenario["loader"];
  /** The project's name as Pulumi.yaml would give it (default PROJECT); namespace-less keys go under it. */
  readonly project?: string;
  readonly otherStacks?: Readonly<Record<string, StackOutputs>>;
  readonly existingClusters?: Readonly<Record<string, ExistingCluster>>;
  readonly callerArn?: string;
  readonly subnets?: Readonly<Record<string, ExistingSubnet>>;
  readonly clusterAddons?: Scenario["clusterAddons"];
  readonly clusterObjects?: Scenario["clusterObjects"];
  readonly chartMirror?: Scenario["chartMirror"];
}

export async function scenario(
  stack: string,
  stackValues: Readonly<Record<string, ConfigValue>>,
  options: ScenarioOptions = {},
): Promise<Scenario> {
  const project = options.project ?? PROJECT;
  return {
    project,
    stack,
    organization: ORGANIZATION,
    config: await cliConfig(stackValues, project),
    loader: options.loader ?? "tsx",
    ...(options.otherStacks === undefined ? {} : { otherStacks: options.otherStacks }),
    ...(options.existingClusters === undefined ? {} : { existingClusters: options.existingClusters }),
    ...(options.callerArn === undefined ? {} : { callerArn: options.callerArn }),
    ...(options.subnets === undefined ? {} : { subnets: options.subnets }),
    ...(options.clusterAddons === undefined ? {} : { clusterAddons: options.clusterAddons }),
    ...(options.clusterObjects === undefined ? {} : { clusterObjects: options.clusterObjects }),
    ...(options.chartMirror === undefined ? {} : { chartMirror: options.chartMirror }),
  };
}

/** Runs one scenario in a child process. */
export async function runProgram(s: Scenario): Promise<ProgramRun> {
  const dir = await mkdtemp(path.join(tmpdir(), "sqs-eks-consumer-program-"));
  try {
    const scenarioFile = path.join(dir, "scenario.json");
    const resultFile = path.join(dir, "result.json");
    await writeFile(scenarioFile, JSON.stringify(s));
    const loaderArgs = s.loader === "tsx" ? ["--import", "tsx"] : [];
    // ts-node caches compiled files and skips type-checking them on a hit; disable that so every run
    // type-checks the whole program, as a first `pulumi up` on a fresh machine does.
    const env = s.loader === "ts-node" ? { ...process.env, TS_NODE_CACHE: "false" } : process.env;
    await run(process.execPath, [...loaderArgs, RUNNER, scenarioFile, resultFile], {
      cwd: REPO_ROOT,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(await readFile(resultFile, "utf8")) as ProgramRun;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs scenarios with at most one child per core. */
export async function runPrograms(scenarios: readonly Scenario[]): Promise<ProgramRun[]> {
  const results: ProgramRun[] = new Array<ProgramRun>(scenarios.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < scenarios.length) {
      const index = next++;
      results[index] = await runProgram(scenarios[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), scenarios.length) }, worker));
  return results;
}

/** A run's resources as the policy pack's offline runner takes them: the engine's view of each (its state). */
export function packResources(programRun: ProgramRun): PackResource[] {
  return programRun.resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.state,
    parent: r.parent,
  }));
}

/**
 * What a stack borrowing `platform`'s cluster finds, as `caller`: the cluster in AWS (its endpoint, OIDC
 * issuer and provider, managed node groups, as the create-mode run registered them) and in the cluster the
 * developer directory the run registered (infra/developer-access.ts), if it lists developers.
 */
export function borrowing(platform: ProgramRun, caller: string): ScenarioOptions {
  const cluster = oneOfType(platform, "eks:index:Cluster");
  const nodeGroups = ofType(platform, "eks:index:ManagedNodeGroup").map((group) => ({
    name: group.name,
    amiType: String(group.inputs.amiType),
    instanceTypes: group.inputs.instanceTypes as string[],
  }));
  const directories = ofType(platform, "kubernetes:core/v1:ConfigMap").filter((map) =>
    map.name.endsWith("developers-directory"),
  );
  const clusterObjects = Object.fromEntries(
    directories.map((map) => {
      const metadata = map.inputs.metadata as { name: string; namespace: string };
      return [`${metadata.namespace}/${metadata.name}`, { metadata, data: map.inputs.data }];
    }),
  );
  return {
    callerArn: caller,
    existingClusters: {
      [String(cluster.inputs.name)]: {
        nodeGroups,
        endpoint: "https://PLATFORM.gr7.us-west-2.eks.amazonaws.com",
        certificateAuthorityData: "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t",
        oidcIssuerUrl: String(cluster.state.oidcProviderUrl),
        oidcProviderArn: String(cluster.state.oidcProviderArn),
        // As DescribeCluster reports it: computeConfig enabled when the platform registered Auto Mode.
        autoMode: (cluster.inputs.autoMode as { enabled?: boolean } | undefined)?.enabled === true,
      },
    },
    clusterObjects: { "kubernetes:core/v1:ConfigMap": clusterObjects },
  };
}

/**
 * The outputs of a run as a StackReference serves them: to the same stack's next update, which reads its last
 * `createdWith` through a StackReference to itself (infra/lifecycle.ts).
 */
export function asPreviousUpdate(programRun: ProgramRun): StackOutputs {
  return { outputs: programRun.outputs, secretOutputNames: programRun.secretOutputs };
}

export function ofType(programRun: ProgramRun, type: string): RecordedResource[] {
  return programRun.resources.filter((resource) => resource.type === type);
}

/** The one resource of a type; fails if there is not exactly one. */
export function oneOfType(programRun: ProgramRun, type: string): RecordedResource {
  const found = ofType(programRun, type);
  assert.equal(found.length, 1, `expected exactly one ${type}, found ${found.length}`);
  return found[0]!;
}

/** The resource with this logical name. */
export function named(programRun: ProgramRun, name: string): RecordedResource {
  const found = programRun.resources.filter((resource) => resource.name === name);
  assert.equal(found.length, 1, `expected exactly one resource named ${name}, found ${found.length}`);
  return found[0]!;
}

/** A string input holding JSON, parsed. */
export function jsonInput(resource: RecordedResource, key: string): unknown {
  const value = resource.inputs[key];
  assert.equal(typeof value, "string", `${resource.name}.${key} should be a JSON string`);
  return JSON.parse(value as string);
}

/** Asserts the run raised no error and registered more than the root stack. */
export function assertSucceeded(programRun: ProgramRun): void {
  assert.deepEqual(programRun.errors, []);
  assert.ok(programRun.resources.length > 1, "the program registered no resources");
}

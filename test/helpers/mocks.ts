/**
 * Pulumi mocks for running the real program without a cloud: every resource registration is recorded
 * (type token, name, parent, inputs, and which inputs were Pulumi secrets), and resources and invokes answer
 * with plausible outputs (ARNs, URLs, an OIDC issuer, an image digest...). Used by program-runner.mjs in a
 * child process: Pulumi's runtime state is per process, so each program run gets a fresh one.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

export const ACCOUNT_ID = "123456789012";
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** One stack's program run, as the runner is asked for it. */
export interface Scenario {
  readonly project: string;
  readonly stack: string;
  /** The Pulumi organization the CLI reports ("organization" on self-managed backends). */
  readonly organization: string;
  /** The stack's config map, `namespace:key` -> string (objects and arrays as JSON), as the CLI passes it. */
  readonly config: Readonly<Record<string, string>>;
  /** How the program is loaded: tsx, or ts-node the way the Pulumi Node.js runtime loads TypeScript. */
  readonly loader: "tsx" | "ts-node";
  /**
   * Outputs of stacks by fully qualified name, served to StackReferences; under the running stack's own name,
   * its previous update's outputs (none when absent, as on a stack's first update).
   */
  readonly otherStacks?: Readonly<Record<string, StackOutputs>>;
  /** EKS clusters that exist in the mocked account, by name, served to aws.eks.getCluster(s) and getNodeGroup(s). */
  readonly existingClusters?: Readonly<Record<string, ExistingCluster>>;
  /** The ARN aws.getCallerIdentity answers (default: an assumed-role session of role `deployer`). */
  readonly callerArn?: string;
  /** Subnets that exist in the mocked account, by ID, served to aws.ec2.getSubnet. */
  readonly subnets?: Readonly<Record<string, ExistingSubnet>>;
  /** EKS add-ons installed on clusters this run does not create: cluster name -> add-on name -> version (aws.eks.getAddon). */
  readonly clusterAddons?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Kubernetes objects that exist in the clusters this run reaches, by type token and `<namespace>/<name>`, served to
   * reads (`k8s.core.v1.ConfigMap.get`); a read of any other fails as the provider's does.
   */
  readonly clusterObjects?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
  /**
   * The account's ECR mirror of the KEDA chart (aws.ecr.getRepository, aws.ecr.getImage); default: present,
   * with immutable tags, holding every tag asked for.
   */
  readonly chartMirror?: { readonly imageTagMutability: string; readonly tags: readonly string[] } | "missing";
}

/** The default version aws.eks.getAddonVersion answers for an add-on (EKS's default for the cluster's version). */
export const MOCK_DEFAULT_ADDON_VERSION = "v1.0.0-eksbuild.1";

export interface ExistingSubnet {
  readonly vpcId: string;
  readonly availabilityZone: string;
  readonly availabilityZoneId: string;
  readonly mapPublicIpOnLaunch: boolean;
}

/** The mocked region's Availability Zones usable by EKS, as aws.getAvailabilityZones answers after its filters. */
export const MOCK_ZONES = ["a", "b", "c"] as const;

/** The default caller: a session of this role, whose issuer (the role ARN) EKS names in access entries. */
export const DEPLOYER_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/deployer`;

export interface StackOutputs {
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly secretOutputNames: readonly string[];
  /**
   * Why the caller cannot open this stack's state, when it cannot: a StackReference to it then fails as the
   * engine's does when the stack's secrets provider refuses (pulumi/pulumi#11109: with a KMS key per stack,
   * a reference needs kms:Decrypt on the referenced stack's key even for non-secret outputs).
   */
  readonly unreadable?: string;
}

export interface ExistingCluster {
  /** Managed node groups, served to aws.eks.getNodeGroups / getNodeGroup (default: none). */
  readonly nodeGroups?: readonly {
    readonly name: string;
    readonly amiType: string;
    readonly instanceTypes: readonly string[];
  }[];
  readonly endpoint: string;
  readonly certificateAuthorityData: string;
  readonly oidcIssuerUrl: string;
  /** The IAM OIDC provider registered for the issuer; absent when none is (IRSA impossible, Pod Identity fine). */
  readonly oidcProviderArn?: string;
  /** The principals with an access entry (aws.eks.getAccessEntry); absent: every principal has one. */
  readonly accessEntries?: readonly string[];
  /** `accessConfig.authenticationMode` (default API). */
  readonly authenticationMode?: "API" | "API_AND_CONFIG_MAP" | "CONFIG_MAP";
  /** Whether the cluster runs EKS Auto Mode (`computeConfig.enabled`; default: no). */
  readonly autoMode?: boolean;
}

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** URN of the parent resource ("" for the root stack). */
  readonly parent: string;
  readonly custom: boolean;
  /** Whether the program read an existing object (`<Resource>.get`) rather than declaring one to manage. */
  readonly read: boolean;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  /** URN of the resource whose deletion takes this one along (the `deletedWith` option), or "". */
  readonly deletedWith: string;
  /** The deleteBeforeReplace option: a replacement deletes the old resource before creating the new one. */
  readonly deleteBeforeReplace: boolean;
  /** How many transforms (the `transforms` option) the engine is to apply to it and its children. */
  readonly transforms: number;
  /** Input properties whose changes the engine ignores (the `ignoreChanges` option). */
  readonly ignoreChanges: readonly string[];
  /** Inputs with secrets unwrapped. */
  readonly inputs: Record<string, unknown>;
  /** Dotted paths of the inputs that were Pulumi secrets. */
  readonly secretInputPaths: readonly string[];
  /** URNs of the resources this one depends on: its dependsOn and the resources its inputs came from. */
  readonly dependencies: readonly string[];
  /** The URNs its aliases name, as the engine resolves them: where the state of an earlier version may be. */
  readonly aliases: readonly string[];
  /** What the engine would report after the operation: inputs plus the mocked outputs, and `id`. */
  readonly state: Record<string, unknown>;
}

export interface RecordedInvoke {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
}

/** What a program run produced. */
export interface ProgramRun {
  readonly resources: readonly RecordedResource[];
  readonly invokes: readonly RecordedInvoke[];
  /** Stack outputs, secrets unwrapped. */
  readonly outputs: Record<string, unknown>;
  /** Names of the stack outputs that are secrets. */
  readonly secretOutputs: readonly string[];
  /** Errors the program raised (message text). */
  readonly errors: readonly string[];
  /** Warnings the program logged (pulumi.log.warn), as `pulumi preview` would show them; set by the runner. */
  readonly warnings?: readonly string[];
  /** The TypeScript loaders present in the process that ran the program (set by the runner). */
  readonly loaders?: { readonly tsNode: boolean; readonly tsx: boolean };
}

interface PendingRegistration {
  urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string;
  readonly custom: boolean;
  readonly read: boolean;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly deletedWith: string;
  readonly deleteBeforeReplace: boolean;
  readonly transforms: number;
  readonly ignoreChanges: readonly string[];
  readonly raw: unknown;
  readonly dependencies: readonly string[];
  readonly aliases: readonly string[];
}

/** A mocked resource monitor request: only the getters this recorder reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletedwith(): string;
  getDeletebeforereplace(): boolean;
  getTransformsList(): unknown[];
  getIgnorechangesList(): string[];
  getObject(): { toJavaScript(): unknown } | undefined;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void };
  getAliasesList(): AliasMessage[];
}

/** An alias as the SDK sends it: a URN, or a spec of what differed (pulumi/proto alias.proto). */
interface AliasMessage {
  getUrn(): string;
  getSpec():
    | {
        getName(): string;
        getType(): string;
        getStack(): string;
        getProject(): string;
        getParenturn(): string;
        getNoparent(): boolean;
      }
    | undefined;
}

interface OutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): unknown } | undefined;
}

/** A mocked read request (how a StackReference is registered). */
interface ReadRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProperties(): { toJavaScript(): unknown } | undefined;
}

interface RecordingMonitor {
  readonly resources: ReadonlyMap<string, { readonly id: string | null; readonly state: unknown }>;
  registerResource(req: RegisterRequest, callback: unknown): Promise<void>;
  readResource(req: ReadRequest, callback: unknown): Promise<void>;
  registerResourceOutputs(req: OutputsRequest, callback: unknown): void;
}

/** Installs the mocks for a scenario; call before the program registers anything. */
export function installMocks(scenario: Scenario): { collect(): ProgramRun } {
  const region = scenario.config["aws:region"] ?? "us-west-2";
  const registrations: PendingRegistration[] = [];
  const invokes: RecordedInvoke[] = [];
  let stackOutputs: unknown = {};

  const mocks: pulumi.runtime.Mocks = {
    newResource: (args) => {
      if (args.id !== undefined && args.id !== "" && args.type.startsWith("kubernetes:")) {
        return { id: args.id, state: clusterObject(args.type, args.id, scenario) };
      }
      const result = resourceOutputs(args.type, args.name, args.inputs as Record<string, unknown>, scenario, region);
      return { id: result.id, state: { ...(args.inputs as Record<string, unknown>), ...result.state } };
    },
    call: (args) => {
      invokes.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
      return invokeResult(args.token, args.inputs as Record<string, unknown>, scenario, region);
    },
  };
  void pulumi.runtime.setMocks(mocks, scenario.project, scenario.stack, false, scenario.organization);

  // Wrap the mock monitor to see what the SDK sent: parents, and which inputs were marked secret.
  const monitor = pulumi.runtime.getMonitor() as unknown as RecordingMonitor;
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const registration: PendingRegistration = {
      urn: "",
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent(),
      custom: req.getCustom(),
      read: false,
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete() === true,
      deletedWith: req.getDeletedwith(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      transforms: req.getTransformsList().length,
      ignoreChanges: req.getIgnorechangesList(),
      raw: req.getObject()?.toJavaScript() ?? {},
      dependencies: dependenciesOf(req),
      aliases: req.getAliasesList().map((alias) => aliasUrn(alias, req, scenario)),
    };
    registrations.push(registration);
    return registerResource(req, (err: unknown, response: { getUrn(): string } | undefined) => {
      if (response !== undefined) registration.urn = response.getUrn();
      (callback as (e: unknown, r: unknown) => void)(err, response);
    });
  };
  const readResource = monitor.readResource.bind(monitor);
  monitor.readResource = (req, callback) => {
    const registration: PendingRegistration = {
      urn: "",
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent(),
      custom: true,
      read: true,
      protect: false,
      retainOnDelete: false,
      deletedWith: "",
      deleteBeforeReplace: false,
      transforms: 0,
      ignoreChanges: [],
      raw: req.getProperties()?.toJavaScript() ?? {},
      dependencies: [],
      aliases: [],
    };
    registrations.push(registration);
    return readResource(req, (err: unknown, response: { getUrn(): string } | undefined) => {
      if (response !== undefined) registration.urn = response.getUrn();
      (callback as (e: unknown, r: unknown) => void)(err, response);
    });
  };
  const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, callback) => {
    if (req.getUrn().includes("::pulumi:pulumi:Stack::")) stackOutputs = req.getOutputs()?.toJavaScript() ?? {};
    registerResourceOutputs(req, callback);
  };

  return {
    collect: () => {
      const resources = registrations.map((registration) => ({
        type: registration.type,
        name: registration.name,
        urn: registration.urn,
        parent: registration.parent,
        custom: registration.custom,
        read: registration.read,
        protect: registration.protect,
        retainOnDelete: registration.retainOnDelete,
        deletedWith: registration.deletedWith,
        deleteBeforeReplace: registration.deleteBeforeReplace,
        transforms: registration.transforms,
        ignoreChanges: registration.ignoreChanges,
        inputs: unwrapSecrets(registration.raw) as Record<string, unknown>,
        secretInputPaths: secretPaths(registration.raw, ""),
        dependencies: registration.dependencies,
        aliases: registration.aliases,
        state: stateOf(monitor.resources.get(registration.urn)),
      }));
      const outputs = unwrapSecrets(stackOutputs) as Record<string, unknown>;
      const secretOutputs = Object.keys(outputs).filter((key) =>
        secretPaths((stackOutputs as Record<string, unknown>)[key], key).includes(key),
      );
      return { resources, invokes, outputs, secretOutputs, errors: [] };
    },
  };
}

/** Every URN the request names as a dependency, explicit (dependsOn) or through an input. */
function dependenciesOf(req: RegisterRequest): string[] {
  const urns = new Set(req.getDependenciesList());
  req.getPropertydependenciesMap().forEach((value) => {
    for (const urn of value.getUrnsList()) urns.add(urn);
  });
  return [...urns];
}

/**
 * The URN an alias names, formed as the engine forms URNs: `urn:pulumi:<stack>::<project>::<type>::<name>`,
 * where a resource's type is prefixed by its parent's (`<parent type>$<type>`) unless the parent is the
 * stack itself. A spec's empty fields keep the resource's own values; without a parent URN or `noParent`
 * the resource's own parent stands (pulumi/pulumi sdk/go/common/resource/urn.go `NewURN`, and the engine's
 * handling of alias specs).
 */
function aliasUrn(alias: AliasMessage, req: RegisterRequest, scenario: Scenario): string {
  const spec = alias.getSpec();
  if (spec === undefined) return alias.getUrn();
  const parent = spec.getNoparent() ? "" : spec.getParenturn() || req.getParent();
  const parentType = parent === "" ? "" : (parent.split("::")[2] ?? "");
  const type = spec.getType() || req.getType();
  const qualified = parentType === "" || parentType === "pulumi:pulumi:Stack" ? type : `${parentType}$${type}`;
  return `urn:pulumi:${spec.getStack() || scenario.stack}::${spec.getProject() || scenario.project}::${qualified}::${spec.getName() || req.getName()}`;
}

function stateOf(entry: { readonly id: string | null; readonly state: unknown } | undefined): Record<string, unknown> {
  if (entry === undefined) return {};
  // A component's entry holds the protobuf Struct its registerOutputs call sent.
  const raw = entry.state as { toJavaScript?: () => unknown } | undefined;
  const state = unwrapSecrets(typeof raw?.toJavaScript === "function" ? raw.toJavaScript() : raw) as Record<
    string,
    unknown
  >;
  return entry.id === null || entry.id === "" ? state : { ...state, id: entry.id };
}

/** An error shaped like the engine's gRPC errors, whose `details` the SDK shows the user. */
function engineError(message: string): Error {
  return Object.assign(new Error(message), { details: message });
}

function isSecretValue(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270"
  );
}

function unwrapSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unwrapSecrets(inner)]));
  }
  return value;
}

function secretPaths(value: unknown, path: string): string[] {
  if (isSecretValue(value)) return [path];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => secretPaths(inner, path === "" ? key : `${path}.${key}`));
}

function digestOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

function resourceOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  scenario: Scenario,
  region: string,
): { id: string | undefined; state: Record<string, unknown> } {
  const physicalName = typeof inputs.name === "string" ? inputs.name : `${name}-physical`;
  switch (type) {
    case "aws:sqs/queue:Queue": {
      const url = `https://sqs.${region}.amazonaws.com/${ACCOUNT_ID}/${physicalName}`;
      return { id: url, state: { url, arn: `arn:aws:sqs:${region}:${ACCOUNT_ID}:${physicalName}` } };
    }
    case "aws:kms/key:Key":
      return {
        id: `key-${digestOf(name).slice(0, 12)}`,
        state: { arn: `arn:aws:kms:${region}:${ACCOUNT_ID}:key/${digestOf(name).slice(0, 32)}` },
      };
    case "aws:sns/topic:Topic":
      return {
        id: `arn:aws:sns:${region}:${ACCOUNT_ID}:${physicalName}`,
        state: { arn: `arn:aws:sns:${region}:${ACCOUNT_ID}:${physicalName}` },
      };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return {
        id: physicalName,
        state: { name: physicalName, arn: `arn:aws:cloudwatch:${region}:${ACCOUNT_ID}:alarm:${physicalName}` },
      };
    case "aws:iam/role:Role":
      return {
        id: physicalName,
        state: { name: physicalName, arn: `arn:aws:iam::${ACCOUNT_ID}:role/${physicalName}` },
      };
    case "aws:ecr/repository:Repository":
      return {
        id: physicalName,
        state: {
          repositoryUrl: `${ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${physicalName}`,
          registryId: ACCOUNT_ID,
          arn: `arn:aws:ecr:${region}:${ACCOUNT_ID}:repository/${physicalName}`,
        },
      };
    case "docker:index/image:Image": {
      const repository = String(inputs.imageName).replace(/:[^:/]+$/, "");
      return { id: `${name}-image`, state: { repoDigest: `${repository}@sha256:${digestOf(inputs.build)}` } };
    }
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { id: `lt-${digestOf(physicalName).slice(0, 17)}`, state: { latestVersion: 1 } };
    case "eks:index:Cluster": {
      const issuer = `oidc.eks.${region}.amazonaws.com/id/${digestOf(physicalName).slice(0, 32).toUpperCase()}`;
      const kubeconfig = { apiVersion: "v1", kind: "Config", clusters: [{ name: physicalName }] };
      return {
        id: undefined,
        state: {
          kubeconfig,
          kubeconfigJson: JSON.stringify(kubeconfig),
          oidcProviderArn: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${issuer}`,
          oidcProviderUrl: `https://${issuer}`,
          oidcIssuer: issuer,
          // The aws.eks.Cluster pulumi-eks creates; EKS's default version when none is asked for.
          eksCluster: { name: physicalName, version: typeof inputs.version === "string" ? inputs.version : "1.34" },
        },
      };
    }
    case "aws:eks/addon:Addon":
      return {
        id: `${String(inputs.clusterName)}:${String(inputs.addonName)}`,
        state: {
          addonVersion: "v1.3.8-eksbuild.2",
          arn: `arn:aws:eks:${region}:${ACCOUNT_ID}:addon/${String(inputs.clusterName)}/${String(inputs.addonName)}/mock`,
        },
      };
    case "aws:eks/podIdentityAssociation:PodIdentityAssociation": {
      const id = `a-${digestOf(inputs).slice(0, 17)}`;
      return {
        id,
        state: {
          associationId: id,
          associationArn: `arn:aws:eks:${region}:${ACCOUNT_ID}:podidentityassociation/${String(inputs.clusterName)}/${id}`,
        },
      };
    }
    case "pulumi:pulumi:StackReference": {
      const stackName = String(inputs.name);
      // The running stack itself (the program reads its own previous outputs): none, unless the scenario gives them.
      const self = `${scenario.organization}/${scenario.project}/${scenario.stack}`;
      const other =
        scenario.otherStacks?.[stackName] ?? (stackName === self ? { outputs: {}, secretOutputNames: [] } : undefined);
      if (other === undefined) throw engineError(`unknown stack "${stackName}"`);
      if (other.unreadable !== undefined) throw engineError(other.unreadable);
      return {
        id: stackName,
        state: { name: stackName, outputs: other.outputs, secretOutputNames: other.secretOutputNames },
      };
    }
    default:
      if (type.startsWith("kubernetes:")) {
        const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
        const namespace = typeof metadata.namespace === "string" ? `${metadata.namespace}/` : "";
        return { id: `${namespace}${typeof metadata.name === "string" ? metadata.name : name}`, state: {} };
      }
      return { id: `${name}-id`, state: {} };
  }
}

/** A Kubernetes object a read asks for, or the provider's error when the cluster has none such. */
function clusterObject(type: string, id: string, scenario: Scenario): Record<string, unknown> {
  const found = scenario.clusterObjects?.[type]?.[id];
  if (found === undefined) throw engineError(`resource "${id}" of type "${type}" does not exist`);
  return { ...found };
}

function invokeResult(
  token: string,
  inputs: Record<string, unknown>,
  scenario: Scenario,
  region: string,
): Record<string, unknown> {
  switch (token) {
    case "aws:index/getPartition:getPartition":
      return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
      return {
        id: region,
        userName: "AWS",
        password: "mock-ecr-password",
        authorizationToken: Buffer.from("AWS:mock-ecr-password").toString("base64"),
        proxyEndpoint: `https://${ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com`,
        expiresAt: "2030-01-01T00:00:00Z",
        region,
      };
    case "aws:eks/getCluster:getCluster": {
      const name = String(inputs.name);
      const cluster = scenario.existingClusters?.[name];
      if (cluster === undefined) throw engineError(`reading EKS Cluster (${name}): couldn't find resource`);
      return {
        id: name,
        name,
        arn: `arn:aws:eks:${region}:${ACCOUNT_ID}:cluster/${name}`,
        endpoint: cluster.endpoint,
        certificateAuthorities: [{ data: cluster.certificateAuthorityData }],
        identities: [{ oidcs: [{ issuer: cluster.oidcIssuerUrl }] }],
        accessConfigs: [{ authenticationMode: cluster.authenticationMode ?? "API" }],
        computeConfigs:
          cluster.autoMode === true
            ? [
                {
                  enabled: true,
                  nodePools: ["general-purpose", "system"],
                  nodeRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${name}-node`,
                },
              ]
            : [],
      };
    }
    case "aws:eks/getAccessEntry:getAccessEntry": {
      const clusterName = String(inputs.clusterName);
      const principalArn = String(inputs.principalArn);
      const cluster = scenario.existingClusters?.[clusterName];
      if (cluster?.accessEntries !== undefined && !cluster.accessEntries.includes(principalArn))
        throw engineError(`reading EKS Access Entry (${clusterName}:${principalArn}): couldn't find resource`);
      return { id: `${clusterName}:${principalArn}`, clusterName, principalArn, type: "STANDARD" };
    }
    case "aws:eks/getAddonVersion:getAddonVersion":
      return {
        id: String(inputs.addonName),
        addonName: inputs.addonName,
        kubernetesVersion: inputs.kubernetesVersion,
        version: MOCK_DEFAULT_ADDON_VERSION,
      };
    case "aws:ecr/getRepository:getRepository": {
      const name = String(inputs.name);
      if (scenario.chartMirror === "missing") throw engineError(`ECR Repository (${name}) not found`);
      return {
        id: name,
        name,
        registryId: ACCOUNT_ID,
        arn: `arn:aws:ecr:${region}:${ACCOUNT_ID}:repository/${name}`,
        repositoryUrl: `${ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${name}`,
        imageTagMutability: scenario.chartMirror?.imageTagMutability ?? "IMMUTABLE",
      };
    }
    case "aws:ecr/getImage:getImage": {
      const tag = String(inputs.imageTag);
      const mirror = scenario.chartMirror;
      if (mirror === "missing" || (mirror !== undefined && !mirror.tags.includes(tag)))
        throw engineError(`ECR Image (${String(inputs.repositoryName)}:${tag}) not found`);
      return {
        id: `${String(inputs.repositoryName)}:${tag}`,
        imageDigest: `sha256:${digestOf(tag)}`,
        imageTags: [tag],
      };
    }
    case "aws:eks/getAddon:getAddon": {
      const clusterName = String(inputs.clusterName);
      const addonName = String(inputs.addonName);
      const version = scenario.clusterAddons?.[clusterName]?.[addonName];
      if (version === undefined)
        throw engineError(`reading EKS Add-On (${clusterName}:${addonName}): couldn't find resource`);
      return { id: `${clusterName}:${addonName}`, clusterName, addonName, addonVersion: version };
    }
    case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": {
      const match = Object.values(scenario.existingClusters ?? {}).find(
        (cluster) => cluster.oidcIssuerUrl === inputs.url,
      );
      if (match?.oidcProviderArn === undefined) throw engineError(`no IAM OIDC provider for ${String(inputs.url)}`);
      return {
        id: match.oidcProviderArn,
        arn: match.oidcProviderArn,
        url: match.oidcIssuerUrl.replace(/^https:\/\//, ""),
      };
    }
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return {
        id: region,
        names: MOCK_ZONES.map((zone) => `${region}${zone}`),
        zoneIds: MOCK_ZONES.map((_, i) => `usw2-az${i + 1}`),
      };
    case "aws:eks/getClusters:getClusters":
      return { id: region, names: Object.keys(scenario.existingClusters ?? {}) };
    case "aws:index/getCallerIdentity:getCallerIdentity": {
      const arn = scenario.callerArn ?? `arn:aws:sts::${ACCOUNT_ID}:assumed-role/deployer/session`;
      return { id: ACCOUNT_ID, accountId: ACCOUNT_ID, arn, userId: "AROAEXAMPLE:session" };
    }
    case "aws:iam/getSessionContext:getSessionContext": {
      const arn = String(inputs.arn);
      const role = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn);
      return role
        ? {
            id: arn,
            arn,
            issuerArn: `arn:aws:iam::${role[1]}:role/${role[2]}`,
            issuerName: role[2],
            sessionName: role[3],
          }
        : { id: arn, arn, issuerArn: arn, issuerName: "", sessionName: "" };
    }
    case "aws:ec2/getSubnet:getSubnet": {
      const id = String(inputs.id);
      const subnet = scenario.subnets?.[id];
      if (subnet === undefined) throw engineError(`no matching EC2 Subnet found (${id})`);
      return { ...subnet, id, arn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:subnet/${id}` };
    }
    case "aws:eks/getNodeGroups:getNodeGroups": {
      const cluster = scenario.existingClusters?.[String(inputs.clusterName)];
      return {
        id: String(inputs.clusterName),
        clusterName: inputs.clusterName,
        names: (cluster?.nodeGroups ?? []).map((group) => group.name),
      };
    }
    case "aws:eks/getNodeGroup:getNodeGroup": {
      const group = scenario.existingClusters?.[String(inputs.clusterName)]?.nodeGroups?.find(
        (candidate) => candidate.name === inputs.nodeGroupName,
      );
      if (group === undefined)
        throw engineError(`reading EKS Node Group (${String(inputs.nodeGroupName)}): couldn't find resource`);
      return {
        id: group.name,
        clusterName: inputs.clusterName,
        nodeGroupName: group.name,
        amiType: group.amiType,
        instanceTypes: group.instanceTypes,
      };
    }
    default:
      throw engineError(`unexpected invoke ${token}`);
  }
}

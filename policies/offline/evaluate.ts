/**
 * Runs one policy's validators the way the Pulumi CLI's analyzer does, on recorded resources instead
 * of the engine's: resource policies once per resource, stack policies once with every resource.
 */
import type {
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import type { PackPolicy } from "../pack";
import { isUnknownValueError, unknownCheckingProxy } from "../lib/undecided";

/**
 * A resource as a `pulumi.runtime.setMocks` recorder sees it: the type token, the logical name, the
 * URN, and its properties. `props` should be the inputs merged with the state the mocks return (`id`,
 * `arn`, `url`, ...), as the engine's stack analysis sees outputs; cross-resource rules match on those.
 */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Readonly<Record<string, unknown>>;
  /** The parent's URN, when the recorder knows it (mocks record none for remote components' children). */
  readonly parent?: string;
}

/**
 * One reported violation; `urn` is absent when a stack policy blames the stack as a whole. `undecided`
 * marks the engine's advisory "can't run policy during preview" diagnostic: the rule read a value that
 * is unknown until the resources exist.
 */
export interface Finding {
  readonly message: string;
  readonly urn?: string;
  readonly undecided?: true;
}

/**
 * A resource's props as the engine hands them to policies: wrapped so that reading an unknown value
 * (the SDK's sentinel strings, which tests put where preview would have unknowns) throws.
 */
function engineProps(props: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return unknownCheckingProxy({ ...props });
}

class NotApplicable extends Error {}

const NO_OPTIONS: PolicyResourceOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

/** `isType`/`asType` as the SDK implements them: compare with the resource class's type token. */
function typeCheckers(type: string, props: Record<string, unknown>) {
  const isType = (resourceClass: object): boolean =>
    (resourceClass as { __pulumiType?: unknown }).__pulumiType === type;
  return {
    isType,
    // The SDK's signatures are generic over resource classes; the runtime contract is "props or undefined".
    asType: ((resourceClass: object) =>
      isType(resourceClass) ? props : undefined) as ResourceValidationArgs["asType"],
  };
}

function toPolicyResources(resources: readonly RecordedResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const converted = resources.map((r) => {
    const props = engineProps(r.props);
    const { isType, asType } = typeCheckers(r.type, props);
    const resource: PolicyResource = {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props,
      opts: { ...NO_OPTIONS, parent: r.parent },
      dependencies: [],
      propertyDependencies: {},
      isType,
      asType,
    };
    byUrn.set(r.urn, resource);
    return resource;
  });
  resources.forEach((r, index) => {
    const parent = r.parent === undefined ? undefined : byUrn.get(r.parent);
    const resource = converted[index];
    if (parent !== undefined && resource !== undefined) resource.parent = parent;
  });
  return converted;
}

/** Violations of `policy` on `resources`, with `config` as the policy's (already validated) configuration. */
export async function evaluatePolicy(
  policy: PackPolicy,
  resources: readonly RecordedResource[],
  config: Readonly<Record<string, unknown>>,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const common = {
    stackTags: new Map<string, string>() as ReadonlyMap<string, string>,
    getConfig: <T extends object>() => ({ ...config }) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
  // As in the engine (@pulumi/policy server.js), an unknown value read by a rule ends that call of the
  // rule with an advisory diagnostic; violations it reported before stay.
  const run = async (call: () => Promise<void> | void, urn?: string): Promise<void> => {
    try {
      await call();
    } catch (error) {
      if (!isUnknownValueError(error)) throw error;
      findings.push({ message: error.message, undecided: true, ...(urn === undefined ? {} : { urn }) });
    }
  };
  try {
    if ("validateStack" in policy) {
      const args: StackValidationArgs = { ...common, resources: toPolicyResources(resources) };
      await run(() =>
        policy.validateStack(args, (message, urn) => findings.push(urn === undefined ? { message } : { message, urn })),
      );
      return findings;
    }
    const validations = policy.validateResource === undefined ? [] : [policy.validateResource].flat();
    for (const r of resources) {
      const props = engineProps(r.props);
      const args: ResourceValidationArgs = {
        ...common,
        ...typeCheckers(r.type, props),
        type: r.type,
        name: r.name,
        urn: r.urn,
        props,
        opts: { ...NO_OPTIONS, parent: r.parent },
      };
      for (const validate of validations) {
        // As in the engine, a resource violation always blames the resource being validated.
        await run(() => validate(args, (message) => findings.push({ message, urn: r.urn })), r.urn);
      }
    }
  } catch (error) {
    if (!(error instanceof NotApplicable)) throw error;
  }
  return findings;
}

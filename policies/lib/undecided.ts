/**
 * What a rule could not decide at preview. During `pulumi preview` the engine hands policies a proxy
 * that throws `UnknownValueError` when a rule reads a value that is only known after an update (an ARN
 * of a resource not created yet, a policy document built from one). Left alone, the first such read
 * aborts the whole policy and the SDK reports one advisory line for it, so every other resource goes
 * unchecked. Rules instead run each resource's check inside `decide`, which records what was unknown
 * and lets the rest run; at the end `settle` raises one `UnknownValueError` that names every resource
 * and property left undecided, which the SDK (and the offline runner) prints as an advisory:
 * "can't run policy '<rule>' from policy pack ... during preview: <what was unknown>".
 * Source: @pulumi/policy `proxy.js` (unknownCheckingProxy) and `server.js` (how it reports the error).
 */
import * as policySdk from "@pulumi/policy";

/** The SDK's error class and proxy; its declaration files omit them (marked internal), the runtime has them. */
const sdk = policySdk as unknown as {
  UnknownValueError: new (sentinel: string, path: readonly string[]) => Error;
  unknownCheckingProxy: <T extends object>(props: T) => T;
};
const UnknownValueError = sdk.UnknownValueError;

/** `props` wrapped the way the engine hands them to policies: reading an unknown value throws. */
export function unknownCheckingProxy<T extends object>(props: T): T {
  return sdk.unknownCheckingProxy(props);
}

/** Whether `error` is the SDK's "value unknown during preview" error (or an `Undecided`). */
export function isUnknownValueError(error: unknown): error is Error {
  return error instanceof UnknownValueError;
}

/** The sentinel the engine uses for an unknown string; the error's constructor needs one. */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** An `UnknownValueError` whose message lists every undecided check of one rule run. */
export class Undecided extends UnknownValueError {
  constructor(readonly notes: readonly string[]) {
    super(UNKNOWN_STRING, []);
    this.name = "Undecided";
    this.message = `undecided, values unknown until the resources exist: ${notes.join("; ")}; the rule checks them at \`pulumi up\` (the deploy workflow runs the pack) or on the next preview`;
  }
}

/** Collects the undecided parts of one rule run. */
export class Decisions {
  private readonly notes: string[] = [];

  /**
   * Runs `check`; when it reads an unknown value, records `<subject>: <what was unknown>` instead of
   * failing, so the caller goes on with the next resource. Other errors propagate.
   */
  decide(subject: string, check: () => void): void {
    try {
      check();
    } catch (error) {
      if (!isUnknownValueError(error)) throw error;
      this.notes.push(`${subject}: ${error instanceof Undecided ? error.notes.join(", ") : error.message}`);
    }
  }

  /** Records an undecided check found without reading through the proxy (e.g. an unknown reference). */
  note(subject: string, what: string): void {
    this.notes.push(`${subject}: ${what}`);
  }

  /** Throws `Undecided` when anything was left undecided; call it last, after every violation is reported. */
  settle(): void {
    if (this.notes.length > 0) throw new Undecided(this.notes);
  }
}

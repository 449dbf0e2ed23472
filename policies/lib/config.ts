/** Reading a policy's configuration with its documented defaults filled in. */

/**
 * `args.getConfig()` with `defaults` for every key the user left out. The Pulumi CLI validates the
 * user's values against the policy's `configSchema` before a rule runs, and so does the offline runner,
 * so a present key already has the schema's type.
 */
export function configWithDefaults<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
  const given = args.getConfig<Partial<T>>();
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined && key in defaults) merged[key] = value;
  }
  return merged as T;
}

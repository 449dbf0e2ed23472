// Every process a run measures or scales runs an esbuild bundle under plain `node`, as the shipped
// consumer does: no TypeScript loader in it, and the same module-loading cost for all.

/**
 * esbuild options as consumer/build.mjs compiles the consumer (CommonJS for Node 24, names kept), so
 * code bundled by a harness is compiled as the shipped consumer is. It leaves out build.mjs's
 * `mainFields` (ES module builds of packages first); a bundle that must match the image exactly adds it.
 */
export const CONSUMER_BUNDLE_OPTIONS = {
  bundle: true,
  platform: "node",
  target: "node24",
  format: "cjs",
  keepNames: true,
  legalComments: "none",
  logLevel: "warning",
} as const;

/** What the consumer's version banner reports; consumer/build.mjs defines it as `__BUILD_INFO__`. */
export interface BuildInfo {
  readonly name: string;
  readonly version: string;
  readonly commit: string;
  readonly buildTime: string;
}

/** The esbuild `define` that gives a bundle of consumer code its `__BUILD_INFO__`. */
export function buildInfoDefine(info: BuildInfo): Record<string, string> {
  return { __BUILD_INFO__: JSON.stringify(info) };
}

// Type-aware linting: the rules that matter most here are the promise rules, because a floating
// promise in a receive loop is a silently dropped error.
import js from "@eslint/js";
import path from "node:path";
import tseslint from "typescript-eslint";

const ROOT = import.meta.dirname;

/**
 * A repository path (no extension, no trailing /index) for a relative import, or undefined for a package.
 * "../consumer/src/contract/index.ts" from infra/x.ts is "consumer/src/contract".
 */
function importedPath(filename, source) {
  if (!source.startsWith(".")) return undefined;
  const resolved = path
    .relative(ROOT, path.resolve(path.dirname(filename), source))
    .split(path.sep)
    .join("/");
  return resolved.replace(/\.[cm]?[jt]s$/, "").replace(/\/index$/, "");
}

/**
 * The module boundaries between the program (index.ts, infra/), the consumer (consumer/) and the policy
 * pack (policies/): a no-restricted-paths-style rule, resolved against the repository root so it holds at
 * every folder depth. Each `forbid` entry names a repository path (a file without extension, or a folder),
 * the exact paths still allowed inside it, and why. Covers import, export ... from, import() and require().
 */
const importBoundaries = {
  meta: {
    type: "problem",
    docs: { description: "Keep the program, the consumer and the policy pack to their agreed interfaces." },
    schema: [
      {
        type: "object",
        properties: {
          forbid: {
            type: "array",
            items: {
              type: "object",
              properties: {
                path: { type: "string" },
                except: { type: "array", items: { type: "string" } },
                message: { type: "string" },
              },
              required: ["path", "message"],
              additionalProperties: false,
            },
          },
        },
        required: ["forbid"],
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const { forbid } = context.options[0];
    function check(node, source) {
      if (typeof source !== "string") return;
      const target = importedPath(context.filename, source);
      if (target === undefined) return;
      for (const boundary of forbid) {
        const inside = target === boundary.path || target.startsWith(`${boundary.path}/`);
        if (inside && !(boundary.except ?? []).includes(target)) {
          context.report({ node, message: `"${source}" crosses a module boundary: ${boundary.message}` });
          return;
        }
      }
    }
    const fromSource = (node) => check(node.source, node.source?.value);
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: (node) => check(node.source, node.source.type === "Literal" ? node.source.value : undefined),
      TSExternalModuleReference: (node) => check(node.expression, node.expression.value),
      CallExpression: (node) => {
        if (
          node.callee.type === "Identifier" &&
          node.callee.name === "require" &&
          node.arguments[0]?.type === "Literal"
        ) {
          check(node.arguments[0], node.arguments[0].value);
        }
      },
    };
  },
};

const CONSUMER_BUT_CONTRACT = {
  path: "consumer",
  except: ["consumer/src/contract"],
  message:
    "outside consumer/, import only consumer/src/contract (its index), the consumer's contract with the infrastructure",
};
const THE_PROGRAM = [
  { path: "index", message: "the Pulumi program (index.ts) is an entry point, not a library" },
  { path: "infra", message: "infra/ is the Pulumi program's; share through consumer/src/contract instead" },
];
const boundaries = (forbid) => ({ "local/import-boundaries": ["error", { forbid }] });

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/*.mjs", ".bench/**", ".drill/**", ".e2e/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { local: { rules: { "import-boundaries": importBoundaries } } },
    rules: {
      // node:test's test/describe/it return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  // Module boundaries (test/import-boundaries.test.ts proves each one bites). A file matched by several
  // blocks takes the last one's list, so each block lists everything its folder may not import.
  { files: ["index.ts", "infra/**/*.ts"], rules: boundaries([CONSUMER_BUT_CONTRACT]) },
  { files: ["policies/**/*.ts"], rules: boundaries([CONSUMER_BUT_CONTRACT, ...THE_PROGRAM]) },
  { files: ["consumer/**/*.ts"], rules: boundaries(THE_PROGRAM) },
);

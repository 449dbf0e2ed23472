/**
 * What the image's build stage has when it runs consumer/build.mjs, read from the files that decide it:
 * the build context after `.dockerignore`, the files the Dockerfile's build stage COPYs before its build
 * runs, and the npm packages the consumer's package.json declares (`npm ci --workspace consumer` installs
 * those and what they need). `npm run build` checks the handler's imports against it, so that a handler
 * that builds here also builds in the image. Imports only Node's own modules: build.mjs loads it with
 * plain Node.
 */
/** One problem with the handler's inputs: the file that imports, what it imports, and the fix. */
export interface ImageInputProblem {
  readonly importer: string;
  readonly imported: string;
  readonly reason: string;
}

/**
 * A `.dockerignore` as Docker reads it: one pattern a line (`#` comments, blank lines skipped), Go
 * filepath.Match syntax with `**` for any number of directories, `!` re-including; the last pattern
 * that matches a path, or one of its parent directories, decides ("Dockerignore file", Docker docs,
 * https://docs.docker.com/build/concepts/context/#dockerignore-files).
 * Returns whether `path` (relative to the context, `/`-separated) is left out of the build context.
 */
export function dockerignored(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const exclude = !line.startsWith("!");
      const pattern = (exclude ? line : line.slice(1)).trim().replace(/^\/+/, "").replace(/\/+$/, "");
      return { exclude, pattern };
    });
  const parts = path.split("/");
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const { exclude, pattern } of rules) {
    const regex = patternRegex(pattern);
    if (prefixes.some((prefix) => regex.test(prefix))) ignored = exclude;
  }
  return ignored;
}

/**
 * A .dockerignore pattern as a regular expression over a whole path: `**` any number of directories
 * (none included), `*` any run of characters but `/`, `?` one such character, `[...]` a class, `\`
 * escaping the next character; dot files are not special (moby's patternmatcher).
 */
function patternRegex(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        out += "(?:.*/)?";
      } else out += ".*";
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) out += "\\[";
      else {
        out += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < pattern.length) out += escapeRegex(pattern[++i]!);
    else out += escapeRegex(c);
  }
  return new RegExp(`^${out}$`);
}

function escapeRegex(c: string): string {
  return /[.+^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/**
 * The paths the Dockerfile's first stage COPYs from the build context before it runs consumer/build.mjs
 * (`COPY <src>... <dest>` lines; `--from` copies come from other stages and are skipped).
 */
export function copiedBeforeBuild(dockerfile: string): string[] {
  const buildStage = (dockerfile.split(/^FROM /m)[1] ?? "").split(/^RUN .*node consumer\/build\.mjs/m)[0] ?? "";
  return [...buildStage.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
    m[1]!
      .trim()
      .split(/\s+/)
      .filter((arg) => !arg.startsWith("--"))
      .slice(0, -1)
      .map((path) => path.replace(/\/+$/, "")),
  );
}

/** A local source file is in the build stage: in the build context, and under a path the stage COPYs. */
export function inBuildStage(source: string, dockerignore: string, copied: readonly string[]): boolean {
  return (
    !dockerignored(dockerignore, source) && copied.some((path) => source === path || source.startsWith(`${path}/`))
  );
}

/** The npm package an import specifier names: `zod`, `@scope/pkg` (from `@scope/pkg/sub`); undefined for a path. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The esbuild metafile parts read here: each input file and what it imports. */
export interface MetafileInputs {
  readonly inputs: Readonly<
    Record<string, { readonly imports: readonly { readonly path: string; readonly external?: boolean }[] }>
  >;
}

/**
 * Checks the handler's inputs (an esbuild metafile of consumer/handler.ts bundled with packages
 * external, paths relative to the repository root) against what the image's build stage has: every
 * local source in the build context and copied, every npm package it imports declared in
 * consumer/package.json (`declared`). `builtin` says whether a specifier is one of Node's own modules.
 * `dockerfile` and `dockerignore` are the files' text.
 */
export function checkImageInputs(
  meta: MetafileInputs,
  context: {
    readonly dockerfile: string;
    readonly dockerignore: string;
    readonly declared: ReadonlySet<string>;
    readonly builtin: (specifier: string) => boolean;
  },
): ImageInputProblem[] {
  const copied = copiedBeforeBuild(context.dockerfile);
  const problems: ImageInputProblem[] = [];
  const importerOf = (file: string): string =>
    Object.keys(meta.inputs).find((other) => meta.inputs[other]!.imports.some((i) => i.path === file)) ?? file;
  for (const [file, input] of Object.entries(meta.inputs)) {
    if (!file.startsWith("<") && !file.includes("node_modules/") && !inBuildStage(file, context.dockerignore, copied))
      problems.push({
        importer: importerOf(file),
        imported: file,
        reason: `is not in the image's build stage (consumer/Dockerfile copies ${copied.join(", ")}, less what .dockerignore leaves out): put it in consumer/, beside handler.ts`,
      });
    for (const { path, external } of input.imports) {
      const name = external === true ? packageOf(path) : undefined;
      if (name === undefined || context.builtin(path) || context.declared.has(name)) continue;
      problems.push({
        importer: file,
        imported: path,
        reason: `is not declared in consumer/package.json, so the image's npm ci does not install it: npm install --workspace consumer ${name}`,
      });
    }
  }
  return problems;
}

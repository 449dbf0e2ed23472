// The README is followed literally by people new to the project, so each thing it tells them is checked
// against the repository: every command in its shell blocks (and inline) names an npm script, workspace
// and variables that exist, with arguments the script accepts; its handler examples pass the project's
// lint (TypeScript, ESLint, Prettier) as consumer/handler.ts; the example test passes against the example
// handler; its sample log lines are what the consumer writes; and its links lead to files and headings
// that exist. docs/CONSUMER.md's tables are generated from the code.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ESLint } from "eslint";
import * as prettier from "prettier";
import ts from "typescript";
import { EMULATOR_CREDENTIALS, createQueueWithDlq, emulatorClient, startEmulator } from "../consumer/local/emulator";
import { parseSendArgs } from "../consumer/local/send";
import { queueCounts } from "../consumer/test/helpers/queue";
import { logMessage } from "../consumer/src/handler";
import { CONNECTION, DEFAULT_TUNABLES, TUNABLES } from "../consumer/src/settings";
import { receivedMessage, testContext } from "../consumer/src/testing";
import { CONSUMER_DOC, renderConsumerDoc } from "../scripts/readme-tables";

const ROOT = join(__dirname, "..");
const README = join(ROOT, "README.md");
const readme = readFileSync(README, "utf8");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  workspaces: string[];
};

/** The fenced blocks of a markdown text in a language, in order. */
function blocks(markdown: string, ...languages: string[]): string[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)]
    .filter((m) => languages.includes(m[1]!))
    .map((m) => m[2]!);
}

/** Splits a shell line into commands (at `&&`, `;`, `|`) of words, quotes removed, comments dropped. */
function shellCommands(line: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | undefined;
  const end = () => {
    if (word !== undefined) commands.at(-1)!.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      assert.ok(close > i, `unclosed quote in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, close);
      i = close;
    } else if (c === " " || c === "\t") end();
    else if (c === "#" && word === undefined) break;
    else if (c === ";" || c === "|" || (c === "&" && line[i + 1] === "&")) {
      end();
      commands.push([]);
      if (c === "&" || line[i + 1] === "|") i++;
    } else word = (word ?? "") + c;
  }
  end();
  return commands.filter((command) => command.length > 0);
}

/** The variables a reader may set in front of a command: the consumer's settings and `npm start`'s own. */
const KNOWN_VARIABLES = new Set([
  ...Object.values(TUNABLES).map((spec) => spec.env),
  ...Object.values(CONNECTION).map((spec) => spec.env),
  // What consumer/local reads, by its source: a variable it never reads would do nothing.
  ...[...readFileSync(join(ROOT, "consumer/local/start.ts"), "utf8").matchAll(/process\.env\.(LOCAL_[A-Z_]+)/g)].map(
    (m) => m[1]!,
  ),
]);

/** Checks one command a reader is told to run; returns what is wrong with it, or undefined. */
function checkCommand(words: readonly string[]): string | undefined {
  let i = 0;
  for (; /^[A-Z_][A-Z0-9_]*=/.test(words[i] ?? ""); i++) {
    const name = words[i]!.slice(0, words[i]!.indexOf("="));
    if (!KNOWN_VARIABLES.has(name)) return `${name} is not a setting the consumer or npm start reads`;
  }
  const [program, subcommand, ...rest] = words.slice(i);
  if (program !== "npm") return `no check for ${program ?? "(nothing)"}: add one to test/readme.integration.test.ts`;
  switch (subcommand) {
    case "ci":
      return rest.every((flag) => ["--no-audit", "--no-fund"].includes(flag)) ? undefined : `npm ci ${rest.join(" ")}`;
    case "start":
    case "test":
      return subcommand in pkg.scripts ? undefined : `package.json has no ${subcommand} script`;
    case "run": {
      const [script, separator, ...args] = rest;
      if (script === undefined || !(script in pkg.scripts)) return `package.json has no script ${script}`;
      if (separator !== undefined && separator !== "--") return `npm run ${script}: arguments go after --`;
      if (script === "send") {
        try {
          parseSendArgs(args);
        } catch (error) {
          return `npm run send -- ${args.join(" ")}: ${(error as Error).message}`;
        }
      } else if (args.length > 0) return `no check for the arguments of npm run ${script}`;
      return undefined;
    }
    case "install": {
      const at = rest.indexOf("--workspace");
      const workspace = rest[at + 1];
      if (at < 0 || workspace === undefined || !pkg.workspaces.includes(workspace))
        return `npm install should name one of the workspaces (${pkg.workspaces.join(", ")})`;
      return rest.length > 2 ? undefined : "npm install --workspace without a package";
    }
    default:
      return `no check for npm ${subcommand}`;
  }
}

describe("the README's commands", () => {
  test("every command in its shell blocks exists and parses", () => {
    const lines = blocks(readme, "sh", "bash").flatMap((block) => block.split("\n"));
    const commands = lines.flatMap(shellCommands);
    assert.ok(commands.length >= 6, `only ${commands.length} commands found`);
    for (const command of commands) assert.equal(checkCommand(command), undefined, command.join(" "));
  });

  test("every command it gives inline exists and parses", () => {
    const inline = [...readme.matchAll(/`([^`\n]+)`/g)]
      .map((m) => m[1]!)
      .filter((code) => /^(npm |[A-Z_]+=\S+ npm )/.test(code));
    assert.ok(inline.length >= 3, `only ${inline.length} inline commands found`);
    for (const code of inline)
      for (const command of shellCommands(code)) assert.equal(checkCommand(command), undefined, code);
  });

  test("its send command for the FIFO queue sends to the queue LOCAL_QUEUE_TYPE=fifo npm start makes", async () => {
    const command = [...readme.matchAll(/`([^`\n]+)`/g)]
      .map((m) => m[1]!)
      .find((code) => /npm run send .*--group-id/.test(code));
    assert.ok(command, "the README gives no command that sends to a FIFO queue");
    // What `LOCAL_QUEUE_TYPE=fifo npm start` sets up: an emulator with the FIFO queue, and no other.
    const emulator = await startEmulator({ port: 0 });
    const sqs = emulatorClient(emulator.endpoint);
    try {
      const queue = await createQueueWithDlq(sqs, "sqs-eks-consumer-local", DEFAULT_TUNABLES, 5, true);
      const port = new URL(emulator.endpoint).port;
      const sent = await new Promise<{ code: number; stderr: string }>((done) =>
        execFile(
          "sh",
          ["-c", command],
          {
            cwd: ROOT,
            timeout: 60_000,
            env: {
              ...process.env,
              LOCAL_SQS_PORT: port,
              AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
              AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
            },
          },
          (error, _stdout, stderr) =>
            done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
      assert.equal(sent.code, 0, `${command}: ${sent.stderr}`);
      assert.equal((await queueCounts(sqs, queue.queueUrl)).visible, 1);
    } finally {
      sqs.destroy();
      await emulator.stop();
    }
  });

  test("every consumer setting it names is one of the stack's consumer keys", () => {
    const keys = [...readme.matchAll(/`consumer\.(\w+)`/g)].map((m) => m[1]!);
    assert.ok(keys.length > 0);
    for (const key of keys) assert.ok(key in TUNABLES, `consumer.${key} is not a key of the consumer block`);
  });

  test("the two set-up commands come first", () => {
    const [first] = blocks(readme, "sh");
    assert.match(first!, /^npm ci && npm start\b/m);
    assert.match(first!, /^npm ci && npm test\b/m);
  });
});

/** The README's TypeScript examples: the message handler, the Lambda handler, and the handler's test. */
function examples(): { message: string; lambda: string; test: string } {
  const ts = blocks(readme, "ts");
  const find = (what: string, pattern: RegExp) => {
    const found = ts.filter((block) => pattern.test(block));
    assert.equal(found.length, 1, `one ${what} example`);
    return found[0]!;
  };
  return {
    message: find("message handler", /export async function handleMessage/),
    lambda: find("Lambda handler", /export \{ handler as handleBatch \}/),
    test: find("test", /from "\.\/handler"/),
  };
}

describe("the README's examples", () => {
  const copies: string[] = [];
  after(() => {
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of consumer/ with the given handler.ts and handler.test.ts, and the repository's node_modules. */
  function consumerWith(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), "readme-example-"));
    copies.push(root);
    for (const part of ["package.json", "build.mjs", "src", "local"])
      cpSync(join(ROOT, "consumer", part), join(root, "consumer", part), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, "consumer", name), text);
    symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"), "dir");
    return root;
  }

  // Without NODE_TEST_CONTEXT, which would make a child `node --test` report to this runner instead of stdout.
  const { NODE_TEST_CONTEXT: _context, ...childEnv } = process.env;
  const run = (cwd: string, args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(process.execPath, args, { cwd, timeout: 120_000, env: childEnv }, (error, stdout, stderr) =>
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  test("the handler examples and the test pass the project's lint as consumer/handler.ts and handler.test.ts", async () => {
    const { message, lambda, test: testExample } = examples();
    // In this order: ESLint's type information keeps the latest text of each file, so the test is linted
    // against the message handler it tests.
    const cases: [string, string, string][] = [
      ["message handler", "consumer/handler.ts", message],
      ["test", "consumer/handler.test.ts", testExample],
      ["Lambda handler", "consumer/handler.ts", lambda],
    ];
    // TypeScript, with the project's options, each example in place of the file it stands for (the test
    // against the message handler it tests).
    const config = ts.getParsedCommandLineOfConfigFile(
      join(ROOT, "tsconfig.json"),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, "\n")),
      },
    )!;
    for (const [name, file, text] of cases) {
      const replaced = new Map([[resolve(ROOT, file), text]]);
      if (name === "test") replaced.set(resolve(ROOT, "consumer/handler.ts"), message);
      const host = ts.createCompilerHost(config.options);
      const readFile = host.readFile.bind(host);
      host.readFile = (path) => replaced.get(resolve(path)) ?? readFile(path);
      const program = ts.createProgram([resolve(ROOT, file)], config.options, host);
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      assert.deepEqual(diagnostics, [], `${name}: TypeScript`);
    }
    const eslint = new ESLint({ cwd: ROOT });
    const prettierConfig = await prettier.resolveConfig(join(ROOT, "consumer/handler.ts"));
    for (const [name, file, text] of cases) {
      const [result] = await eslint.lintText(text, { filePath: join(ROOT, file) });
      assert.deepEqual(
        result!.messages.map((m) => `${m.line}: ${m.ruleId}: ${m.message}`),
        [],
        `${name}: ESLint`,
      );
      assert.ok(
        await prettier.check(text, { ...prettierConfig, filepath: join(ROOT, file) }),
        `${name}: not formatted as Prettier formats the project (width 120)`,
      );
    }
  });

  test("the example test passes against the example handler, which logs the README's sample line", async () => {
    const { message, test: testExample } = examples();
    const sample = blocks(readme, "json")
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === "order received");
    assert.ok(sample, "the README shows the line the example handler logs");
    const root = consumerWith({
      "handler.ts": message,
      "handler.test.ts": testExample,
      "sample.ts": `import { handleMessage } from "./handler";
import { receivedMessage, testContext } from "./src/testing";
const context = testContext();
void handleMessage(receivedMessage({ body: '{"orderId":"o-1"}', messageId: "${String(sample.messageId)}" }), context).then(
  () => console.log(JSON.stringify(context.logs)),
);
`,
    });
    const tested = await run(root, ["--import", "tsx", "--test", "--test-reporter", "tap", "consumer/handler.test.ts"]);
    assert.equal(tested.code, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, /# pass 2/);
    const logged = await run(root, ["--import", "tsx", "consumer/sample.ts"]);
    assert.equal(logged.code, 0, logged.stderr);
    const [line] = JSON.parse(logged.stdout) as Record<string, unknown>[];
    assert.deepEqual({ ...line, time: sample.time }, sample);
  });

  test("the Lambda example builds as a batch handler", async () => {
    const root = consumerWith({ "handler.ts": examples().lambda });
    const built = await run(join(root, "consumer"), ["build.mjs", "--outfile", join(root, "main.js")]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /consumer\/handler\.ts exports handleBatch/);
  });

  test("the sample line of the shipped handler is the line it logs for that message", async () => {
    const sample = blocks(readme, "json")
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.event === "message");
    assert.ok(sample, "the README shows the default handler's line");
    const context = testContext();
    await logMessage(receivedMessage({ body: String(sample.body), messageId: String(sample.messageId) }), context);
    assert.deepEqual({ ...context.logs[0], time: sample.time }, sample);
  });
});

describe("the README's links", () => {
  /** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
  const slug = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s-]/gu, "")
      .trim()
      .replace(/\s/g, "-");
  const anchors = (markdown: string) => new Set([...markdown.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!)));

  test("every relative link leads to a file that exists, and every anchor to a heading in it", () => {
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    assert.ok(links.length > 10);
    for (const link of links) {
      const [path, anchor] = link.split("#") as [string, string | undefined];
      const target = path === "" ? README : join(ROOT, path);
      assert.ok(existsSync(target), `${link}: no such file`);
      if (anchor !== undefined)
        assert.ok(
          anchors(readFileSync(target, "utf8")).has(anchor),
          `${link}: no such heading in ${path || "README.md"}`,
        );
    }
  });

  test("it names no file that is not in the repository", () => {
    const paths = [...readme.matchAll(/`((?:consumer|docs|scripts|infra|test)\/[\w./-]+)`/g)].map((m) => m[1]!);
    assert.ok(paths.length > 3);
    // consumer/dist/ is what `npm run build` writes.
    for (const path of paths.filter((p) => !p.startsWith("consumer/dist/")))
      assert.ok(existsSync(join(ROOT, path)), `${path} is not in the repository`);
  });
});

describe("docs/DEVELOPING.md's commands", () => {
  const developing = readFileSync(join(ROOT, "docs/DEVELOPING.md"), "utf8");
  /** The npm commands named in backticks in a text, as `ci` or `run <script>` (the script's arguments dropped). */
  const npmCommands = (text: string) =>
    new Set(
      [...text.matchAll(/\bnpm (ci|start|test|run [\w:-]+)/g)].map((m) =>
        m[1] === "start" || m[1] === "test" ? `run ${m[1]}` : m[1]!,
      ),
    );

  test("every npm script it names exists", () => {
    const named = [...npmCommands(developing)].filter((c) => c.startsWith("run ")).map((c) => c.slice(4));
    assert.ok(named.length > 10);
    for (const script of named) assert.ok(script in pkg.scripts, `package.json has no script ${script}`);
  });

  test("its command table lists every npm script of package.json (npm runs postinstall by itself)", () => {
    const table = developing
      .split("\n")
      .filter((line) => line.startsWith("| `npm ") || line.startsWith("| `bash "))
      .map((line) => line.split(" | ")[0]!);
    assert.ok(table.length > 10, `read ${table.length} rows of the command table`);
    const listed = new Set(table.flatMap((cell) => [...npmCommands(cell)]).map((c) => c.replace(/^run /, "")));
    assert.deepEqual(
      Object.keys(pkg.scripts).filter((script) => script !== "postinstall" && !listed.has(script)),
      [],
      "npm scripts missing from docs/DEVELOPING.md's command table",
    );
  });

  test("its .ci/run row names exactly the npm commands .ci/run runs", () => {
    const row = developing.split("\n").find((line) => line.startsWith("| `bash .ci/run` |"));
    assert.ok(row, "a row for bash .ci/run");
    // The oracle is .ci/run itself: its steps, comments left out.
    const steps = readFileSync(join(ROOT, ".ci/run"), "utf8")
      .split("\n")
      .filter((line) => !line.trimStart().startsWith("#"))
      .join("\n");
    assert.deepEqual([...npmCommands(row)].sort(), [...npmCommands(steps)].sort());
    assert.equal(
      row.includes(".ci/readme-setup"),
      steps.includes(".ci/readme-setup"),
      "the README's set-up with npm 10",
    );
  });
});

test("docs/CONSUMER.md's settings and error tables match the code (run `npm run docs` to update)", () => {
  const doc = readFileSync(CONSUMER_DOC, "utf8");
  assert.equal(renderConsumerDoc(doc), doc);
});

test("the README stays a newcomer's guide: at most 250 lines", () => {
  assert.ok(readme.split("\n").length <= 250, `${readme.split("\n").length} lines: move depth to docs/`);
});

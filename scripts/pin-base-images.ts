// `npm run pin-base-images [-- --check]`: re-pins consumer/Dockerfile's base images to the digests
// their tags name now (the multi-platform image index, so one pin serves amd64 and arm64 builds).
// With --check it changes nothing and exits 1 when a pin is behind its tag. Needs the registry and one
// of crane, skopeo or `docker buildx`; each lookup ends after 60 s.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repin } from "./base-images";

const DOCKERFILE = join(__dirname, "..", "consumer", "Dockerfile");
const LOOKUP_TIMEOUT_MS = 60_000;

function run(command: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { encoding: "buffer", timeout: LOOKUP_TIMEOUT_MS, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(`${command} ${args.join(" ")}: ${stderr.toString().trim() || error.message}`, { cause: error }),
          );
        else resolve(stdout);
      },
    );
  });
}

/** Ways to read the digest of the manifest (for a multi-platform tag: the index) a tag names. */
const RESOLVERS: Record<string, (reference: string) => Promise<string>> = {
  crane: async (reference) => (await run("crane", ["digest", reference])).toString(),
  // A manifest's digest is the sha256 of its exact bytes, which --raw returns unparsed.
  skopeo: async (reference) =>
    `sha256:${createHash("sha256")
      .update(await run("skopeo", ["inspect", "--raw", `docker://${reference}`]))
      .digest("hex")}`,
  docker: async (reference) => {
    const manifest = JSON.parse(
      (
        await run("docker", ["buildx", "imagetools", "inspect", reference, "--format", "{{json .Manifest}}"])
      ).toString(),
    ) as { digest?: string };
    return manifest.digest ?? "";
  },
};

async function availableResolver(): Promise<[string, (reference: string) => Promise<string>]> {
  const probes: Record<string, string[]> = { crane: ["version"], skopeo: ["--version"], docker: ["buildx", "version"] };
  for (const [name, resolver] of Object.entries(RESOLVERS)) {
    try {
      await run(name, probes[name]!);
      return [name, resolver];
    } catch {
      // not installed or not working: try the next one
    }
  }
  throw new Error("none of crane, skopeo or `docker buildx` works here; install one (e.g. apt-get install skopeo)");
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const [name, resolve] = await availableResolver();
  const { text, changes } = await repin(readFileSync(DOCKERFILE, "utf8"), resolve);
  for (const change of changes) console.log(`${change.reference}: ${change.from ?? "(unpinned)"} -> ${change.to}`);
  if (changes.length === 0)
    console.log(`every base image in consumer/Dockerfile is pinned to what its tag names now (looked up with ${name})`);
  else if (check) process.exitCode = 1;
  else {
    writeFileSync(DOCKERFILE, text);
    console.log(
      `consumer/Dockerfile re-pinned (looked up with ${name}); update the provenance comment above the FROM lines`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`pin-base-images: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});

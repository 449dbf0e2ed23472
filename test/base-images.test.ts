/**
 * consumer/Dockerfile's base images are pinned by digest; `npm run pin-base-images` re-pins them
 * (scripts/base-images.ts), and the offline container run builds the same Dockerfile against local
 * stand-ins that carry the tags (e2e/base-images.sh).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { baseImages, repin, unpinned, withoutDigests } from "../scripts/base-images";

const ROOT = join(__dirname, "..");
const dockerfile = readFileSync(join(ROOT, "consumer", "Dockerfile"), "utf8");
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

/** The tags e2e/base-images.sh gives its stand-ins (its readonly NODE_IMAGE and DISTROLESS_IMAGE). */
function standInTags(): string[] {
  const script = readFileSync(join(ROOT, "e2e", "base-images.sh"), "utf8");
  return ["NODE_IMAGE", "DISTROLESS_IMAGE"].map((name) => {
    const match = new RegExp(`^readonly ${name}=(\\S+)$`, "m").exec(script);
    assert.ok(match, `e2e/base-images.sh sets no ${name}`);
    return match[1]!;
  });
}

describe("consumer/Dockerfile's base images", () => {
  it("are both pinned to a sha256 digest, next to the tag they were resolved from", () => {
    assert.deepEqual(unpinned(dockerfile), []);
    assert.deepEqual(
      baseImages(dockerfile).map((image) => image.reference),
      ["docker.io/library/node:24-bookworm-slim", "gcr.io/distroless/nodejs24-debian12:nonroot"],
    );
    for (const image of baseImages(dockerfile))
      assert.match(image.digest ?? "", /^sha256:[0-9a-f]{64}$/, image.reference);
  });

  it("name exactly the stand-ins the offline container run builds, once the digests are dropped", () => {
    const standIn = withoutDigests(dockerfile);
    assert.deepEqual(
      baseImages(standIn).map((image) => [image.reference, image.digest]),
      standInTags().map((tag) => [tag, undefined]),
    );
    const changed = dockerfile
      .split("\n")
      .map((line, i) => [line, standIn.split("\n")[i]] as const)
      .filter(([a, b]) => a !== b);
    assert.equal(changed.length, 2, "only the two FROM lines differ");
    assert.match(standIn, /^FROM docker\.io\/library\/node:24-bookworm-slim AS bundle$/m);
  });
});

describe("scripts/base-images.ts", () => {
  const sample = [
    "FROM --platform=$BUILDPLATFORM docker.io/library/node:24-bookworm-slim AS bundle",
    "RUN echo FROM docker.io/library/node:24-bookworm-slim",
    "FROM bundle AS test",
    "FROM scratch",
    `from gcr.io/distroless/nodejs24-debian12:nonroot@${D1}`,
    `FROM docker.io/library/node:24-bookworm-slim@${D1} AS again`,
  ].join("\n");

  it("reads tagged FROM images only, with their digests and line numbers", () => {
    assert.deepEqual(baseImages(sample), [
      { line: 1, reference: "docker.io/library/node:24-bookworm-slim", digest: undefined },
      { line: 5, reference: "gcr.io/distroless/nodejs24-debian12:nonroot", digest: D1 },
      { line: 6, reference: "docker.io/library/node:24-bookworm-slim", digest: D1 },
    ]);
    assert.deepEqual(unpinned(sample), ["line 1: docker.io/library/node:24-bookworm-slim"]);
  });

  it("re-pins every image to what its tag names now, looks each tag up once, and reports what moved", async () => {
    const asked: string[] = [];
    const { text, changes } = await repin(sample, (reference) => {
      asked.push(reference);
      return Promise.resolve(reference.includes("distroless") ? D1 : `${D2}\n`);
    });
    assert.deepEqual(asked, ["docker.io/library/node:24-bookworm-slim", "gcr.io/distroless/nodejs24-debian12:nonroot"]);
    assert.deepEqual(changes, [
      { reference: "docker.io/library/node:24-bookworm-slim", from: undefined, to: D2 },
      { reference: "docker.io/library/node:24-bookworm-slim", from: D1, to: D2 },
    ]);
    assert.deepEqual(text.split("\n"), [
      `FROM --platform=$BUILDPLATFORM docker.io/library/node:24-bookworm-slim@${D2} AS bundle`,
      "RUN echo FROM docker.io/library/node:24-bookworm-slim",
      "FROM bundle AS test",
      "FROM scratch",
      `from gcr.io/distroless/nodejs24-debian12:nonroot@${D1}`,
      `FROM docker.io/library/node:24-bookworm-slim@${D2} AS again`,
    ]);
    assert.deepEqual(
      (await repin(text, (reference) => Promise.resolve(reference.includes("distroless") ? D1 : D2))).changes,
      [],
    );
  });

  it("refuses an answer that is not a sha256 digest", async () => {
    await assert.rejects(
      repin(sample, () => Promise.resolve("latest")),
      /docker\.io\/library\/node:24-bookworm-slim resolved to 'latest', not a sha256 digest/,
    );
  });
});

// The base images a Dockerfile starts FROM, pinned as `<name>:<tag>@sha256:<digest>`: read them,
// re-pin them to what their tags name now, or drop the digests for a build against local stand-ins
// (the offline container run, whose stand-ins carry the tags but not upstream's digests).

/** One `FROM` line's image: `reference` is `<name>:<tag>`, `digest` is `sha256:<64 hex>` when pinned. */
export interface BaseImage {
  /** 1-based line number in the Dockerfile. */
  readonly line: number;
  readonly reference: string;
  readonly digest: string | undefined;
}

// FROM [--platform=...] <image>[@sha256:<hex>] [AS <stage>]; `FROM <earlier stage>` and `FROM scratch`
// name no image to pull, and are told apart by the caller (they have no tag).
const FROM = /^(\s*FROM\s+(?:--\S+\s+)*)([^\s@]+)(?:@(sha256:[0-9a-f]{64}))?(\s.*)?$/i;

/** Every `FROM` of an image with a tag (stages built from earlier stages and `scratch` are skipped). */
export function baseImages(dockerfile: string): BaseImage[] {
  const images: BaseImage[] = [];
  dockerfile.split("\n").forEach((text, index) => {
    const match = FROM.exec(text);
    if (match && /:[^/]+$/.test(match[2]!)) images.push({ line: index + 1, reference: match[2]!, digest: match[3] });
  });
  return images;
}

/** The images that are not pinned to a digest, as `line N: <reference>` (empty when all are). */
export function unpinned(dockerfile: string): string[] {
  return baseImages(dockerfile)
    .filter((image) => image.digest === undefined)
    .map((image) => `line ${image.line}: ${image.reference}`);
}

/** The Dockerfile with every FROM digest removed, so that a build resolves the tags alone. */
export function withoutDigests(dockerfile: string): string {
  return dockerfile
    .split("\n")
    .map((text) =>
      text.replace(
        FROM,
        (_all, head: string, reference: string, _digest: string | undefined, tail: string | undefined) =>
          `${head}${reference}${tail ?? ""}`,
      ),
    )
    .join("\n");
}

/** A base image whose tag now names another digest than the pinned one. */
export interface Repin {
  readonly reference: string;
  readonly from: string | undefined;
  readonly to: string;
}

/**
 * Pins every tagged FROM image to the digest `resolve` gives for its tag.
 * @param resolve the current digest (`sha256:<64 hex>`) of the image index a tag names.
 * @returns the new Dockerfile text and what changed (empty when every pin is current).
 * @throws when `resolve` answers something that is not a sha256 digest.
 */
export async function repin(
  dockerfile: string,
  resolve: (reference: string) => Promise<string>,
): Promise<{ text: string; changes: Repin[] }> {
  const current = new Map<string, string>();
  for (const { reference } of baseImages(dockerfile)) {
    if (current.has(reference)) continue;
    const digest = (await resolve(reference)).trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(digest))
      throw new Error(`${reference} resolved to '${digest}', not a sha256 digest`);
    current.set(reference, digest);
  }
  const changes: Repin[] = [];
  const text = dockerfile
    .split("\n")
    .map((line) =>
      line.replace(
        FROM,
        (all, head: string, reference: string, digest: string | undefined, tail: string | undefined) => {
          const to = current.get(reference);
          if (to === undefined) return all;
          if (to !== digest) changes.push({ reference, from: digest, to });
          return `${head}${reference}@${to}${tail ?? ""}`;
        },
      ),
    )
    .join("\n");
  return { text, changes };
}

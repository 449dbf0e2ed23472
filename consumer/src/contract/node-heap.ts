/**
 * Node's heap settings for a container memory limit: what the Deployment puts in NODE_OPTIONS, and
 * what `npm run bench` uses for its 128 MiB runs.
 *
 * Old space gets 75% of the limit; the rest is for code, buffers and the young generation. The young
 * generation needs a cap of its own: Node 24's V8 lets it grow to 192 MiB (three 64 MiB semi-spaces)
 * whatever --max-old-space-size says (heap_size_limit is 288 MiB with --max-old-space-size=96). Under
 * load it grows well past 64 MiB, and beside a 96 MiB old space V8 then judges the heap nearly full and runs
 * mark-compact after mark-compact over ~13 MiB of live objects: the consumer drained at about half its
 * speed (docs/BENCHMARKS.md). A semi-space of 1/16 of the limit keeps the young generation (three
 * semi-spaces) under a fifth of it, and old space plus young generation inside the limit.
 */
export interface NodeHeap {
  /** --max-old-space-size, MiB. */
  readonly maxOldSpaceMiB: number;
  /** --max-semi-space-size, MiB. */
  readonly maxSemiSpaceMiB: number;
}

export const HEAP_SHARE_OF_MEMORY_LIMIT = 0.75;
const SEMI_SPACE_SHARE_OF_MEMORY_LIMIT = 1 / 16;
/** Node 24's default ceiling for a semi-space on a large machine: limits of 1 GiB and more keep it. */
const MAX_SEMI_SPACE_MIB = 64;

export function nodeHeapForMemoryLimit(memoryLimitMiB: number): NodeHeap {
  return {
    maxOldSpaceMiB: Math.floor(memoryLimitMiB * HEAP_SHARE_OF_MEMORY_LIMIT),
    maxSemiSpaceMiB: Math.min(
      MAX_SEMI_SPACE_MIB,
      Math.max(1, Math.floor(memoryLimitMiB * SEMI_SPACE_SHARE_OF_MEMORY_LIMIT)),
    ),
  };
}

/** The NODE_OPTIONS value for those settings. */
export function nodeHeapOptions(heap: NodeHeap): string {
  return `--max-old-space-size=${heap.maxOldSpaceMiB} --max-semi-space-size=${heap.maxSemiSpaceMiB}`;
}

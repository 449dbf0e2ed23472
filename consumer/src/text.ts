/**
 * Text as people and log pipelines count it: in Unicode code points, never UTF-16 code units, so a cut
 * never splits a surrogate pair into a lone surrogate (invalid Unicode that breaks JSON-to-UTF-8
 * pipelines).
 */

/** The first `max` code points of `text` and how many code points `text` has in all. */
export interface Truncated {
  readonly text: string;
  readonly truncated: boolean;
  /** Length of the whole input, in code points. */
  readonly codePoints: number;
}

/**
 * Cuts `text` after `max` code points (a character outside the Basic Multilingual Plane, such as 😀,
 * counts as one). Runs in time proportional to the input's length, without copying it into an array.
 */
export function truncateCodePoints(text: string, max: number): Truncated {
  let codePoints = 0;
  let cutAt = text.length;
  for (let i = 0; i < text.length; i++) {
    if (codePoints === max) cutAt = Math.min(cutAt, i);
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point; a lone surrogate counts as one too.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    codePoints++;
  }
  const truncated = codePoints > max;
  return { text: truncated ? text.slice(0, cutAt) : text, truncated, codePoints };
}

import { VigilError } from './errors.js';
import { TAG_LIMITS, type TagInput } from './inputs.js';
import type { Execution } from './types.js';

export interface Tag {
  key: string;
  value: string;
}

/** Tags are stored as one JSON object `{key: value}`: a key is there at most once, and containment is one index probe. */
export type TagMap = Record<string, string>;

const byKey = (a: Tag, b: Tag) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The execution's tags sorted by key in code-point order (API.md §8; keys are ASCII, so `<` is code-point order). */
export function tagsOf(e: Pick<Execution, 'tags'>): Tag[] {
  return Object.entries((e.tags ?? {}) as TagMap)
    .map(([key, value]) => ({ key, value }))
    .sort(byKey);
}

export function tagMap(tags: readonly TagInput[] | null | undefined): TagMap {
  const map: TagMap = {};
  for (const { key, value } of tags ?? []) map[key] = value;
  return map;
}

/** True when every given pair is among the execution's tags. */
export function hasTags(e: Pick<Execution, 'tags'>, wanted: readonly TagInput[] | null | undefined): boolean {
  if (!wanted?.length) return true;
  const tags = (e.tags ?? {}) as TagMap;
  return wanted.every(({ key, value }) => Object.hasOwn(tags, key) && tags[key] === value);
}

/**
 * A worker's `tags` event applied to the current tags: `remove` deletes, `set` adds or replaces. Refused with
 * VALIDATION_FAILED when the result would hold more than 32 tags.
 */
export function changeTags(
  current: TagMap,
  change: { set?: readonly TagInput[] | null; remove?: readonly string[] | null },
  loc: (string | number)[],
): TagMap {
  const next: TagMap = { ...current };
  for (const key of change.remove ?? []) delete next[key];
  for (const { key, value } of change.set ?? []) next[key] = value;
  if (Object.keys(next).length > TAG_LIMITS.count) {
    throw new VigilError('VALIDATION_FAILED', `An execution has at most ${TAG_LIMITS.count} tags`, {
      issues: [{ loc: [...loc, 'set'], msg: `at most ${TAG_LIMITS.count} tags per execution`, type: 'too_big' }],
    });
  }
  return next;
}

import type { Tag } from '../domain/tags.js';
import { builder } from './builder.js';

/** API.md §8: tags of an execution, and their inputs (validated by the domain's zod schemas, not here). */
export const TagRef = builder.objectRef<Tag>('Tag').implement({
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

export const TagInput = builder.inputType('TagInput', {
  fields: (t) => ({
    key: t.string({ required: true, description: '1–64 characters of A-Z a-z 0-9 _ . : / -' }),
    value: t.string({ required: true, description: '0–256 characters' }),
  }),
});

export const TagsInput = builder.inputType('TagsInput', {
  description: "A worker's change of tags: `set` adds or replaces, `remove` deletes (one TAGS_CHANGED event)",
  fields: (t) => ({
    set: t.field({ type: [TagInput] }),
    remove: t.stringList(),
  }),
});

import type { Tag } from '../../client/run-model.js';
import { navigate, readFilter, withTag, writeFilter } from './url.js';

const tagText = (t: Tag) => `${t.key}:${t.value}`;

/** A tag that filters the list by itself when clicked (added to the current filter), from the list or a detail. */
export function TagLink({ tag }: { tag: Tag }) {
  const search = () => writeFilter(withTag(readFilter(location.search), tag));
  return (
    <a
      class="tag"
      href={`${search()}#/`}
      data-testid="tag"
      title={`Show executions tagged ${tagText(tag)}`}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(search(), '#/');
      }}
    >
      <span class="k">{tag.key}</span>
      {tag.value !== '' && <span class="v">{tag.value}</span>}
    </a>
  );
}

export function TagList({ tags, limit }: { tags: readonly Tag[]; limit?: number }) {
  if (tags.length === 0) return null;
  const shown = limit === undefined ? tags : tags.slice(0, limit);
  return (
    <span class="tags">
      {shown.map((t) => (
        <TagLink key={t.key} tag={t} />
      ))}
      {shown.length < tags.length && <small>+{tags.length - shown.length}</small>}
    </span>
  );
}

import { useEffect, useState } from 'preact/hooks';
import type { Filter, Tag } from '../../client/run-model.js';

/**
 * The list's filter lives in the query string (`?status=FAILED,RUNNING&workflow=etl&tag=team=data&range=24h&id=0193`),
 * the view in the hash (`#/executions/<id>`), so a reload, back and forward and a shared link all keep both.
 */
export interface UrlFilter {
  status: string[];
  workflow: string;
  tags: Tag[];
  /** '' (any time), a preset, or 'custom' with from/to. */
  range: string;
  from: string;
  to: string;
  id: string;
}

export const RANGES: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

export function readFilter(search: string): UrlFilter {
  const q = new URLSearchParams(search);
  const tags: Tag[] = [];
  for (const t of q.getAll('tag')) {
    const at = t.indexOf('=');
    if (at > 0) tags.push({ key: t.slice(0, at), value: t.slice(at + 1) });
  }
  const range = q.get('range') ?? '';
  return {
    status: (q.get('status') ?? '').split(',').filter(Boolean),
    workflow: q.get('workflow') ?? '',
    tags,
    range: range in RANGES || range === 'custom' ? range : '',
    from: q.get('from') ?? '',
    to: q.get('to') ?? '',
    id: q.get('id') ?? '',
  };
}

export function writeFilter(f: UrlFilter): string {
  const q = new URLSearchParams();
  if (f.status.length) q.set('status', f.status.join(','));
  if (f.workflow) q.set('workflow', f.workflow);
  for (const t of f.tags) q.append('tag', `${t.key}=${t.value}`);
  if (f.range) q.set('range', f.range);
  if (f.range === 'custom' && f.from) q.set('from', f.from);
  if (f.range === 'custom' && f.to) q.set('to', f.to);
  if (f.id) q.set('id', f.id);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The created-time range of a filter, if it has one ([from, to), ms since the epoch). */
export function rangeOf(f: UrlFilter, now: number): { from: number | null; to: number | null } {
  if (f.range in RANGES) return { from: now - (RANGES[f.range] ?? 0), to: null };
  if (f.range === 'custom') {
    const from = Date.parse(f.from);
    const to = Date.parse(f.to);
    return { from: Number.isNaN(from) ? null : from, to: Number.isNaN(to) ? null : to };
  }
  return { from: null, to: null };
}

/** The GraphQL `ExecutionFilter`; `withStatus: false` for the counts that label the status chips. */
export function toFilter(f: UrlFilter, now: number, withStatus = true): Filter {
  const out: Filter = {};
  // as the URL has them: the server answers an unknown one with VALIDATION_FAILED, which the list shows
  if (withStatus && f.status.length) out.status = f.status as NonNullable<Filter['status']>;
  if (f.workflow) out.workflowIdPrefix = f.workflow;
  if (f.tags.length) out.tags = f.tags;
  if (f.id) out.idPrefix = f.id.toLowerCase();
  const r = rangeOf(f, now);
  if (r.from !== null) out.createdAfter = new Date(r.from).toISOString();
  if (r.to !== null) out.createdBefore = new Date(r.to).toISOString();
  return out;
}

/** The same filter with one more tag (clicking a tag anywhere filters the list by it). */
export function withTag(f: UrlFilter, tag: Tag): UrlFilter {
  const tags = f.tags.filter((t) => t.key !== tag.key);
  return { ...f, tags: [...tags, tag] };
}

const NAVIGATE = 'vigil:navigate';

/** Moves to `search` + `hash` without a reload; `replace` for typing, so back skips each keystroke. */
export function navigate(search: string, hash: string, replace = false): void {
  const url = `${location.pathname}${search}${hash}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  dispatchEvent(new Event(NAVIGATE));
}

/** The query string and hash, re-read on back/forward, on a hash link and on {@link navigate}. */
export function useLocation(): { search: string; hash: string } {
  const read = () => ({ search: location.search, hash: location.hash });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const on = () => setLoc(read());
    addEventListener('popstate', on);
    addEventListener('hashchange', on);
    addEventListener(NAVIGATE, on);
    return () => {
      removeEventListener('popstate', on);
      removeEventListener('hashchange', on);
      removeEventListener(NAVIGATE, on);
    };
  }, []);
  return loc;
}

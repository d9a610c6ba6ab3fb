import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { VIGIL_STREAM } from '../../client/log-events.js';
import type { StreamState } from './event-stream.js';
import {
  findMatches,
  type LogLine,
  markMatches,
  plainText,
  rawText,
  type Span,
  searchPattern,
  spansOf,
} from './log-lines.js';
import { type LogStore, useLogVersion } from './log-store.js';
import { useVirtualizer } from './virtual.js';
import { LiveDot } from './widgets.js';

/** Every row is one line high (long lines scroll sideways), so a row's place is its index times this. */
const ROW = 18;
/** Parsed events kept for drawing (a screenful needs a few dozen). */
const PARSED = 500;

export interface LogPaneProps {
  store: LogStore;
  state: StreamState;
  /** The download's file name, without extension. */
  name: string;
}

/**
 * A run's output (API.md §8), following live: only the rows in view are in the DOM (TanStack Virtual), so 100,000
 * lines scroll like 100. Following keeps the newest line in view until the reader scrolls up (wheel, keys or the
 * scrollbar); scrolling back to the end, or the Follow button, resumes it. The search runs over the whole log, not
 * only the rows drawn (which the browser's own find would see).
 */
export function LogPane({ store, state, name }: LogPaneProps) {
  const version = useLogVersion(store);
  const lines = store.lines;
  const view = useRef<HTMLElement>(null);
  const [follow, setFollow] = useState(true);
  const lastTop = useRef(0);
  const gesture = useRef(Number.NEGATIVE_INFINITY);
  const [query, setQuery] = useState('');
  const [current, setCurrent] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const search = useRef<HTMLInputElement>(null);
  const parsed = useRef(new Map<LogLine['event'], Span[][]>());

  const virtual = useVirtualRows(lines.length, () => view.current);

  const pattern = useMemo(() => searchPattern(query), [query]);
  const found = useRef<{ pattern: RegExp | null; scanned: number; list: number[]; store: unknown }>({
    pattern: null,
    scanned: 0,
    list: [],
    store: null,
  });
  const f = found.current;
  if (f.pattern !== pattern || f.store !== store) found.current = { pattern, scanned: 0, list: [], store };
  const matches = found.current;
  if (pattern && matches.scanned < lines.length) {
    findMatches(lines, pattern, matches.scanned, matches.list);
    matches.scanned = lines.length;
  }
  const currentLine = matches.list[Math.min(current, matches.list.length - 1)];

  // keep the newest line in view while following; before paint, so a new line never flickers in below the fold
  // (a write only: reading the height here would force a layout every frame while lines pour in)
  useLayoutEffect(() => {
    const el = view.current;
    if (el && follow) el.scrollTop = virtual.getTotalSize();
  }, [version, follow, virtual]);

  // a new search shows its first match at once, as a browser's find does: before paint, so the count and the
  // scroll to the match (which stops following) show together
  useLayoutEffect(() => {
    if (pattern && matches.list.length) jump(0);
  }, [pattern]);

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(null), 2500);
    return () => clearTimeout(t);
  }, [notice]);

  const jump = (to: number) => {
    const n = matches.list.length;
    if (n === 0) return;
    const i = ((to % n) + n) % n;
    setCurrent(i);
    setFollow(false);
    virtual.scrollToIndex(matches.list[i] as number, { align: 'center' });
  };

  // a scroll up (from where the last scroll event left the view) is the reader's; lines added below move nothing.
  // Reaching the end follows again only by the reader's own hand (wheel, keys, pointer), never by a late scroll
  // event of ours.
  const onScroll = () => {
    const el = view.current;
    if (!el) return;
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < ROW / 2;
    const byHand = performance.now() - gesture.current < 1000;
    if (el.scrollTop < lastTop.current - 1 && !atEnd) setFollow(false);
    else if (atEnd && byHand && el.scrollTop > lastTop.current) setFollow(true);
    lastTop.current = el.scrollTop;
  };
  const touched = () => {
    gesture.current = performance.now();
  };

  const spansFor = (line: LogLine): Span[] => {
    const cache = parsed.current;
    let all = cache.get(line.event);
    if (!all) {
      all = spansOf(line.event);
      if (cache.size >= PARSED) cache.delete(cache.keys().next().value as LogLine['event']);
      cache.set(line.event, all);
    }
    return markMatches(all[line.n] ?? [], pattern);
  };

  const copy = async () => {
    const text = plainText(lines);
    const ok = await copyText(text);
    setNotice(ok ? `Copied ${count(lines.length, 'line')}` : 'The browser refused to copy');
  };

  const download = () => {
    const url = URL.createObjectURL(new Blob([rawText(store.events)], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${name.replace(/[^\w.-]+/g, '_')}.log`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };

  const items = virtual.getVirtualItems();
  return (
    <section
      class="log-pane"
      data-testid="log-pane"
      data-lines={lines.length}
      data-follow={String(follow)}
      aria-label="Output"
    >
      <div class="log-bar">
        <h2 class="log-title">
          Output <LiveDot state={state} />
        </h2>
        <span class="log-count" data-testid="log-count">
          {count(lines.length, 'line')}
        </span>
        {store.truncated && (
          <span class="log-cut" data-testid="log-truncated" title="Vigil stopped storing this run's output at its cap">
            truncated
          </span>
        )}
        <span class="log-search">
          <input
            ref={search}
            class="log-query"
            type="search"
            placeholder="Search output"
            aria-label="Search output"
            data-testid="log-search"
            value={query}
            onInput={(e) => {
              setQuery(e.currentTarget.value);
              setCurrent(0);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                jump(current + (e.shiftKey ? -1 : 1));
              }
            }}
          />
          {pattern && (
            <span class="log-matches" data-testid="log-matches" aria-live="polite">
              {matches.list.length === 0
                ? 'no match'
                : `${Math.min(current, matches.list.length - 1) + 1} of ${matches.list.length}`}
            </span>
          )}
          <button
            class="log-btn"
            type="button"
            aria-label="Previous match"
            disabled={!matches.list.length}
            onClick={() => jump(current - 1)}
          >
            ↑
          </button>
          <button
            class="log-btn"
            type="button"
            aria-label="Next match"
            disabled={!matches.list.length}
            onClick={() => jump(current + 1)}
          >
            ↓
          </button>
        </span>
        <span class="log-actions">
          <button
            class="log-btn"
            type="button"
            aria-pressed={follow}
            data-testid="log-follow"
            title="Keep the newest line in view"
            onClick={() => setFollow(!follow)}
          >
            Follow
          </button>
          <button
            class="log-btn"
            type="button"
            data-testid="log-copy"
            disabled={!lines.length}
            onClick={() => void copy()}
          >
            Copy
          </button>
          <button class="log-btn" type="button" data-testid="log-download" disabled={!lines.length} onClick={download}>
            Download
          </button>
        </span>
      </div>
      <section
        class="log-view"
        ref={view}
        aria-label="Output lines"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
        tabIndex={0}
        data-testid="log-view"
        onScroll={onScroll}
        onWheel={(e) => {
          touched();
          if (e.deltaY < 0 && e.currentTarget.scrollTop > 0) setFollow(false);
        }}
        onPointerDown={touched}
        onTouchMove={touched}
        onKeyDown={(e) => {
          touched();
          if ((e.ctrlKey || e.metaKey) && e.key === 'f') {
            e.preventDefault();
            search.current?.focus();
          } else if (['ArrowUp', 'PageUp', 'Home'].includes(e.key)) setFollow(false);
        }}
      >
        {lines.length === 0 ? (
          <p class="log-empty">{state === 'ended' ? 'No output.' : 'No output yet.'}</p>
        ) : (
          <div class="log-sizer" style={{ height: `${virtual.getTotalSize()}px` }}>
            {items.map((it, slot) => {
              const line = lines[it.index] as LogLine;
              const e = line.event;
              const cls = ['log-line'];
              if (e.stream === 'stderr') cls.push('is-stderr');
              if (e.stream === VIGIL_STREAM) cls.push('is-notice');
              if (it.index === currentLine) cls.push('is-current');
              return (
                // keyed by place on screen, so scrolling reuses the rows' elements instead of making new ones
                <div
                  key={slot}
                  class={cls.join(' ')}
                  style={{ transform: `translateY(${it.start}px)` }}
                  data-index={it.index}
                  data-seq={e.sequence}
                  data-stream={e.stream}
                  data-level={e.level ?? undefined}
                >
                  <span class="ln" aria-hidden="true">
                    {it.index + 1}
                  </span>
                  {e.stream !== 'stdout' && e.stream !== VIGIL_STREAM && <span class="st">{e.stream}</span>}
                  <span class="tx">
                    {spansFor(line).map((s, i) =>
                      s.mark ? (
                        <mark key={i} class={s.cls} style={s.style}>
                          {s.text}
                        </mark>
                      ) : (
                        <span key={i} class={s.cls} style={s.style}>
                          {s.text}
                        </span>
                      ),
                    )}
                  </span>
                </div>
              );
            })}
          </div>
        )}
      </section>
      {notice && (
        <p class="log-notice" role="status" data-testid="log-notice">
          {notice}
        </p>
      )}
    </section>
  );
}

function useVirtualRows(count: number, getScrollElement: () => HTMLElement | null) {
  return useVirtualizer({ count, getScrollElement, estimateSize: () => ROW, overscan: 30 });
}

const count = (n: number, what: string) => `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;

/** The Clipboard API where the page may use it (a secure context), else the older copy command. */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

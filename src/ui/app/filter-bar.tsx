import { useEffect, useRef, useState } from 'preact/hooks';
import { STATUSES } from '../../client/documents.js';
import type { Tag } from '../../client/run-model.js';
import type { CountsResult } from '../../client/sdk/dashboard.js';
import type { UrlFilter } from './url.js';

export interface FilterBarProps {
  f: UrlFilter;
  counts: CountsResult | null;
  /** Applied to the filter in the URL at the time (not to `f`, which a pending keystroke may have outdated); `replace`
   * while typing, so back does not step through each keystroke. */
  onChange(patch: Partial<UrlFilter>, replace?: boolean): void;
}

const label = (s: string) => s.replaceAll('_', ' ').toLowerCase();

/** Status chips with live counts, workflow and id prefixes, tags, created-time range: all kept in the URL. */
export function FilterBar({ f, counts, onChange }: FilterBarProps) {
  const count = (s: string) => counts?.byStatus.find((c) => c.status === s)?.count;
  const toggle = (s: string) =>
    onChange({ status: f.status.includes(s) ? f.status.filter((x) => x !== s) : [...f.status, s] });
  const any = f.status.length || f.workflow || f.tags.length || f.range || f.id;
  return (
    <div class="filter-bar">
      <fieldset class="filters" aria-label="Filter by status">
        <button
          type="button"
          class={f.status.length === 0 ? 'chip on' : 'chip'}
          aria-pressed={f.status.length === 0}
          onClick={() => onChange({ status: [] })}
        >
          All <Count n={counts?.total} testid="count-all" />
        </button>
        {STATUSES.map((s) => (
          <button
            type="button"
            key={s}
            class={f.status.includes(s) ? `chip on s-${s.toLowerCase()}` : `chip s-${s.toLowerCase()}`}
            aria-pressed={f.status.includes(s)}
            data-filter={s}
            onClick={() => toggle(s)}
          >
            {label(s)} <Count n={count(s)} />
          </button>
        ))}
      </fieldset>
      <div class="filter-fields">
        <TextField
          label="Workflow"
          placeholder="starts with…"
          value={f.workflow}
          testid="filter-workflow"
          onValue={(workflow, replace) => onChange({ workflow }, replace)}
        />
        <TextField
          label="ID"
          placeholder="starts with…"
          value={f.id}
          testid="filter-id"
          onValue={(id, replace) => onChange({ id: id.trim() }, replace)}
        />
        <label class="field inline">
          <span>Created</span>
          <select
            value={f.range}
            data-testid="filter-range"
            onChange={(e) => {
              const range = e.currentTarget.value;
              const now = Date.now();
              const custom = { from: new Date(now - 86_400_000).toISOString(), to: new Date(now).toISOString() };
              onChange({ range, ...(range === 'custom' ? custom : { from: '', to: '' }) });
            }}
          >
            <option value="">any time</option>
            <option value="1h">last hour</option>
            <option value="24h">last 24 hours</option>
            <option value="7d">last 7 days</option>
            <option value="custom">between…</option>
          </select>
        </label>
        {f.range === 'custom' && (
          <>
            <DateField label="From" iso={f.from} onIso={(from) => onChange({ from }, true)} />
            <DateField label="To" iso={f.to} onIso={(to) => onChange({ to }, true)} />
          </>
        )}
      </div>
      <div class="filter-tags">
        {f.tags.map((t) => (
          <span class="tag removable" key={t.key} data-testid="filter-tag">
            <span class="k">{t.key}</span>
            {t.value !== '' && <span class="v">{t.value}</span>}
            <button
              type="button"
              aria-label={`Remove tag ${t.key}:${t.value}`}
              onClick={() => onChange({ tags: f.tags.filter((x) => x.key !== t.key) })}
            >
              ×
            </button>
          </span>
        ))}
        <TagAdder onTag={(tag) => onChange({ tags: [...f.tags.filter((x) => x.key !== tag.key), tag] })} />
        {any ? (
          <button
            type="button"
            class="link"
            onClick={() => onChange({ status: [], workflow: '', tags: [], range: '', from: '', to: '', id: '' })}
          >
            Clear filters
          </button>
        ) : null}
      </div>
    </div>
  );
}

function Count({ n, testid }: { n: number | undefined; testid?: string }) {
  return (
    <span class="count" data-testid={testid ?? 'count'}>
      {n === undefined ? '' : n.toLocaleString()}
    </span>
  );
}

/** A text filter applied as one types (after a pause), kept in step with the URL on back and forward. */
function TextField(props: {
  label: string;
  placeholder: string;
  value: string;
  testid: string;
  onValue(v: string, replace: boolean): void;
}) {
  const [text, setText] = useState(props.value);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const typed = useRef(false);
  useEffect(() => setText(props.value), [props.value]);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <label class="field inline">
      <span>{props.label}</span>
      <input
        type="search"
        value={text}
        placeholder={props.placeholder}
        data-testid={props.testid}
        spellcheck={false}
        autocomplete="off"
        onInput={(e) => {
          const v = e.currentTarget.value;
          setText(v);
          clearTimeout(timer.current);
          // the first keystroke makes a history entry, the rest of the word replaces it
          timer.current = setTimeout(() => {
            props.onValue(v, typed.current);
            typed.current = true;
          }, 350);
        }}
        onBlur={() => {
          typed.current = false;
        }}
      />
    </label>
  );
}

const pad = (n: number) => String(n).padStart(2, '0');
/** An ISO time as a `datetime-local` value (the browser's time zone). */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function DateField({ label, iso, onIso }: { label: string; iso: string; onIso(iso: string): void }) {
  return (
    <label class="field inline">
      <span>{label}</span>
      <input
        type="datetime-local"
        value={toLocalInput(iso)}
        onChange={(e) => {
          const d = new Date(e.currentTarget.value);
          if (!Number.isNaN(d.getTime())) onIso(d.toISOString());
        }}
      />
    </label>
  );
}

/** "key:value" (or key=value) and Enter adds a tag; the key is what precedes the first `=`, else the first `:`. */
function TagAdder({ onTag }: { onTag(t: Tag): void }) {
  const [text, setText] = useState('');
  const [bad, setBad] = useState(false);
  return (
    <form
      class="tag-adder"
      onSubmit={(e) => {
        e.preventDefault();
        const s = text.trim();
        const at = s.includes('=') ? s.indexOf('=') : s.indexOf(':');
        if (at <= 0) {
          setBad(true);
          return;
        }
        onTag({ key: s.slice(0, at), value: s.slice(at + 1) });
        setText('');
        setBad(false);
      }}
    >
      <label class="field inline">
        <span>Tag</span>
        <input
          type="search"
          value={text}
          placeholder="key:value ⏎"
          data-testid="filter-tag-input"
          aria-invalid={bad}
          spellcheck={false}
          autocomplete="off"
          onInput={(e) => {
            setText(e.currentTarget.value);
            setBad(false);
          }}
        />
      </label>
    </form>
  );
}

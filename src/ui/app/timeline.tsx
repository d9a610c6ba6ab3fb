import { formatDuration, isTerminal } from '../../client/documents.js';
import type { RunDetail, Step } from '../../client/sdk/dashboard.js';
import { Duration, StatusBadge } from './widgets.js';

const OPEN = new Set(['RUNNING', 'PENDING']);

/** A step's [start, end] in ms; a step still open ends "now" (it grows live) until the execution ends. */
function spanOf(st: Step, e: RunDetail, now: number): [number, number] | null {
  if (!st.startedAt) return null;
  const start = Date.parse(st.startedAt);
  if (st.completedAt) return [start, Date.parse(st.completedAt)];
  if (OPEN.has(st.status) && !isTerminal(e.status)) return [start, Math.max(start, now)];
  return [start, start];
}

/**
 * The steps as a Gantt chart: one bar per step from its start to its end on the execution's time axis, coloured
 * by status, so where the time went shows at a glance. The title of each row says name, status and duration.
 */
export function StepTimeline({ e, now }: { e: RunDetail; now: number }) {
  const spans = e.steps.map((st) => spanOf(st, e, now));
  const starts = spans.flatMap((s) => (s ? [s[0]] : []));
  const t0 = Math.min(Date.parse(e.startedAt ?? e.createdAt), ...starts);
  const ends = spans.flatMap((s) => (s ? [s[1]] : []));
  const t1 = Math.max(t0 + 1, e.completedAt ? Date.parse(e.completedAt) : now, ...ends);
  const pct = (t: number) => ((t - t0) / (t1 - t0)) * 100;
  return (
    <div class="timeline">
      <div class="timeline-axis" aria-hidden="true">
        <span class="axis">
          <span>0</span>
          <span>{formatDuration(t1 - t0)}</span>
        </span>
      </div>
      <ol class="steps" data-testid="steps">
        {e.steps.map((st, i) => {
          const span = spans[i];
          const status = st.skipped ? 'SKIPPED' : st.status;
          const ms = span ? span[1] - span[0] : null;
          const name = st.name ?? st.id;
          const title = `${name} · ${status.toLowerCase()} · ${ms === null ? 'not started' : formatDuration(ms)}`;
          return (
            <li key={st.id} class={`s-${st.status.toLowerCase()}`} title={title} data-step={st.id}>
              <StatusBadge status={status} />
              <span class="name">
                {name}
                {st.type && <small> {st.type}</small>}
              </span>
              <span class="track">
                {span && (
                  <span
                    class={`gantt s-${status.toLowerCase()}`}
                    data-testid="step-bar"
                    data-status={status}
                    data-ms={ms ?? 0}
                    style={{ left: `${pct(span[0])}%`, width: `max(2px, ${pct(span[1]) - pct(span[0])}%)` }}
                  />
                )}
              </span>
              <span class="dur">
                <Duration ms={st.durationMs ?? (span && OPEN.has(st.status) ? ms : null)} />
              </span>
              {st.error && (
                <span class="step-error">
                  {st.error.code}: {st.error.message}
                </span>
              )}
            </li>
          );
        })}
      </ol>
    </div>
  );
}

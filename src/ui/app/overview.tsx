import type { VigilClient } from '../../client/client.js';
import { formatDuration, STATUSES } from '../../client/documents.js';
import type { Filter } from '../../client/run-model.js';
import { Overview as OverviewQuery } from '../../client/sdk/dashboard.js';
import { query } from '../../client/sdk/transport.js';
import { useThrottledRead } from './throttle.js';
import { rangeOf, type UrlFilter } from './url.js';

const BUCKETS = [60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];
const MAX_SPAN = 31 * 86_400_000;
const DAY = 86_400_000;
const RANGE_TEXT: Record<string, string> = {
  '': 'in the last 24 hours',
  '1h': 'in the last hour',
  '24h': 'in the last 24 hours',
  '7d': 'in the last 7 days',
};

/** "1 min", "30 min", "3 h", "1 day": the width of one bar. */
function bucketText(seconds: number): string {
  if (seconds < 3600) return `${seconds / 60} min`;
  if (seconds < 86_400) return `${seconds / 3600} h`;
  return `${seconds / 86_400} day`;
}

/** [from, to) and a bucket for the overview: the filter's range (else the last 24 h), at most ~60 aligned bars. */
export function overviewRange(f: UrlFilter, now: number) {
  const r = rangeOf(f, now);
  let to = r.to ?? now;
  let from = r.from ?? to - DAY;
  if (to - from > MAX_SPAN) from = to - MAX_SPAN;
  if (to <= from) to = from + 60_000;
  const bucket = BUCKETS.find((b) => (to - from) / (b * 1000) <= 60) ?? 86_400;
  const ms = bucket * 1000;
  from = Math.floor(from / ms) * ms;
  to = Math.ceil(to / ms) * ms;
  if (to - from > MAX_SPAN) from += ms;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucketSeconds: bucket };
}

/** Executions over time by status (stacked bars) and p50/p95 duration per workflow, for the current filter. */
export function Overview(props: {
  client: VigilClient;
  f: UrlFilter;
  filter: Filter;
  changes: number;
  active: boolean;
}) {
  const { client, f } = props;
  const { createdAfter: _a, createdBefore: _b, ...filter } = props.filter;
  const key = JSON.stringify([filter, f.range, f.from, f.to]);
  const { data, error } = useThrottledRead(
    () => query(client, OverviewQuery, { filter, ...overviewRange(f, Date.now()) }).then((r) => r.executionOverview),
    key,
    props.changes,
    props.active,
    3000,
  );
  if (error) return <p class="notice error">{error.message}</p>;
  if (!data) return <section class="overview" aria-label="Overview" aria-busy="true" />;
  const max = Math.max(1, ...data.buckets.map((b) => b.total));
  const total = data.buckets.reduce((n, b) => n + b.total, 0);
  const span = Date.parse(data.to) - Date.parse(data.from);
  const when = (iso: string) =>
    new Date(iso).toLocaleString(undefined, {
      month: 'short',
      day: 'numeric',
      ...(span > 2 * DAY ? {} : { hour: '2-digit', minute: '2-digit' }),
    });
  const slowest = Math.max(1, ...data.workflows.map((w) => w.p95Ms));
  return (
    <section class="overview" aria-label="Overview" data-testid="overview" data-total={total}>
      <figure class="histogram">
        <figcaption>
          <strong>{total.toLocaleString()}</strong> created {RANGE_TEXT[f.range] ?? 'in this range'}
          <span class="per"> · one bar per {bucketText(data.bucketSeconds)}</span>
        </figcaption>
        <div class="bars" role="img" aria-label={`Executions per ${bucketText(data.bucketSeconds)}, by status`}>
          {data.buckets.map((b) => (
            <div
              key={b.start}
              class="bucket"
              data-total={b.total}
              title={`${new Date(b.start).toLocaleString()}: ${
                b.total === 0
                  ? 'none'
                  : b.byStatus
                      .filter((c) => c.count > 0)
                      .map((c) => `${c.count} ${c.status.toLowerCase()}`)
                      .join(', ')
              }`}
            >
              {STATUSES.map((s) => {
                const c = b.byStatus.find((x) => x.status === s)?.count ?? 0;
                return c > 0 ? (
                  <span key={s} class={`seg s-${s.toLowerCase()}`} style={{ height: `${(c / max) * 100}%` }} />
                ) : null;
              })}
            </div>
          ))}
        </div>
        <div class="axis">
          <span>{when(data.from)}</span>
          <span>max {max} per bar</span>
          <span>{when(data.to)}</span>
        </div>
      </figure>
      <div class="durations">
        <h3>Duration by workflow</h3>
        {data.workflows.length === 0 ? (
          <p class="empty">No finished executions in this range.</p>
        ) : (
          <table data-testid="durations">
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col">Runs</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
              </tr>
            </thead>
            <tbody>
              {data.workflows.slice(0, 6).map((w) => (
                <tr key={w.workflowId} data-workflow={w.workflowId}>
                  <th scope="row" title={w.workflowId}>
                    <span class="wf">{w.workflowId}</span>
                    <span class="spread" aria-hidden="true">
                      <span class="p95" style={{ width: `${(w.p95Ms / slowest) * 100}%` }} />
                      <span class="p50" style={{ width: `${(w.p50Ms / slowest) * 100}%` }} />
                    </span>
                  </th>
                  <td>{w.finished}</td>
                  <td data-testid="p50">{formatDuration(w.p50Ms)}</td>
                  <td>{formatDuration(w.p95Ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

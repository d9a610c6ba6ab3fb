import { elapsedMs, STATUSES } from '../../client/documents.js';
import type { LiveExecutions } from './live.js';
import { age, Duration, ProgressBar, StatusBadge } from './widgets.js';

export interface ListProps {
  live: LiveExecutions;
  statuses: readonly string[];
  onStatuses(s: string[]): void;
  now: number;
}

/** Executions newest first; rows change in place as `executionUpdated` delivers them. */
export function ExecutionList({ live, statuses, onStatuses, now }: ListProps) {
  const toggle = (s: string) =>
    onStatuses(statuses.includes(s) ? statuses.filter((x) => x !== s) : [...statuses, s]);
  return (
    <section class="list">
      <fieldset class="filters" aria-label="Filter by status">
        <button type="button" class={statuses.length === 0 ? 'chip on' : 'chip'} onClick={() => onStatuses([])}>
          All
        </button>
        {STATUSES.map((s) => (
          <button
            type="button"
            key={s}
            class={statuses.includes(s) ? 'chip on' : 'chip'}
            aria-pressed={statuses.includes(s)}
            data-filter={s}
            onClick={() => toggle(s)}
          >
            {s.replaceAll('_', ' ').toLowerCase()}
          </button>
        ))}
      </fieldset>
      {live.error && <p class="notice error">{live.error.message}</p>}
      <div class="table" role="table" aria-label="Executions">
        <div class="row head" role="row">
          <span role="columnheader">Status</span>
          <span role="columnheader">Workflow</span>
          <span role="columnheader">Progress</span>
          <span role="columnheader">Age</span>
          <span role="columnheader">Duration</span>
        </div>
        {live.items.map((e) => (
          <div
            key={e.id}
            class="row link-row"
            role="row"
            data-testid="execution-row"
            data-id={e.id}
            data-status={e.status}
          >
            <span role="cell" class="c-status">
              <StatusBadge status={e.status} />
            </span>
            <span role="cell" class="c-workflow">
              <span>
                <a class="open" href={`#/executions/${e.id}`}>
                  <strong>{e.workflowId}</strong>
                </a>
                {e.workflowVersion && <small> v{e.workflowVersion}</small>}
              </span>
              <small class="id">{e.id}</small>
            </span>
            <span role="cell" class="c-progress">
              <ProgressBar percentage={e.progress?.percentage} status={e.status} />
              {e.progress?.step && <small class="step">{e.progress.step}</small>}
            </span>
            <span role="cell" class="c-age">
              <time dateTime={e.createdAt} title={new Date(e.createdAt).toLocaleString()}>
                {age(e.createdAt, now)}
              </time>
            </span>
            <span role="cell" class="c-duration">
              <Duration ms={elapsedMs(e, now)} />
            </span>
          </div>
        ))}
      </div>
      {live.items.length === 0 && !live.loading && (
        <p class="empty">
          No executions{statuses.length ? ' with this status' : ''} yet. Start one with{' '}
          <code>npx tsx examples/worker.ts</code>.
        </p>
      )}
      {live.hasMore && (
        <button type="button" class="more" onClick={live.loadMore} disabled={live.loading}>
          Load older executions
        </button>
      )}
    </section>
  );
}

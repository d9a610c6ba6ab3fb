import { elapsedMs } from '../../client/documents.js';
import type { LiveExecutions } from './live.js';
import { TagList } from './tags.js';
import { age, Duration, ProgressBar, StatusBadge } from './widgets.js';

export interface ListProps {
  live: LiveExecutions;
  filtered: boolean;
  now: number;
}

/** Executions newest first; rows change in place as the change feed (`executionChanges`) delivers them. */
export function ExecutionList({ live, filtered, now }: ListProps) {
  return (
    <section class="list">
      {live.error && <p class="notice error">{live.error.message}</p>}
      {live.connection === 'reconnecting' && (
        <p class="reconnecting" role="status" data-testid="reconnecting">
          reconnecting… changes made meanwhile will show when the connection is back
        </p>
      )}
      <div class="table">
        <div class="row head" aria-hidden="true">
          <span>Status</span>
          <span>Workflow</span>
          <span>Progress</span>
          <span>Age</span>
          <span>Duration</span>
        </div>
        <ol aria-label="Executions">
          {live.items.map((e) => (
            <li key={e.id} class="row link-row" data-testid="execution-row" data-id={e.id} data-status={e.status}>
              <span class="c-status">
                <StatusBadge status={e.status} />
              </span>
              <span class="c-workflow">
                <span>
                  <a class="open" href={`#/executions/${e.id}`}>
                    <strong>{e.workflowId}</strong>
                  </a>
                  {e.workflowVersion && <small> v{e.workflowVersion}</small>}
                  {e.attempt > 1 && <small class="attempt"> · attempt {e.attempt}</small>}
                </span>
                <small class="id">{e.id}</small>
                <TagList tags={e.tags} limit={4} />
              </span>
              <span class="c-progress">
                <ProgressBar percentage={e.progress?.percentage} status={e.status} />
                {e.progress?.step && <small class="step">{e.progress.step}</small>}
              </span>
              <span class="c-age">
                <time dateTime={e.createdAt} title={new Date(e.createdAt).toLocaleString()}>
                  {age(e.createdAt, now)}
                </time>
              </span>
              <span class="c-duration">
                <Duration ms={elapsedMs(e, now)} />
              </span>
            </li>
          ))}
        </ol>
      </div>
      {live.items.length === 0 && !live.loading && (
        <p class="empty">
          {filtered ? (
            'No executions match these filters.'
          ) : (
            <>
              No executions yet. Start one with <code>npx tsx examples/worker.ts</code>.
            </>
          )}
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

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { VigilApiError, VigilClient } from '../../client/client.js';
import { describeEvent, elapsedMs, isTerminal } from '../../client/documents.js';
import {
  type RunDetail,
  RunGet,
  type RunSummary,
  SetPinned,
  UpdateStatus,
  type Viewer,
} from '../../client/sdk/dashboard.js';
import { query } from '../../client/sdk/transport.js';
import { useEventLog } from './event-stream.js';
import { Attempts, Children, shortId } from './lineage.js';
import { newer } from './live.js';
import { LogPane } from './log-pane.js';
import { useLogStore } from './log-store.js';
import { TagList } from './tags.js';
import { StepTimeline } from './timeline.js';
import { Confirm, Duration, LiveDot, ProgressBar, StatusBadge, Time } from './widgets.js';

type Target = 'CANCELLED' | 'FAILED' | 'COMPLETED';

export interface DetailProps {
  client: VigilClient;
  id: string;
  viewer: Viewer;
  /** The newest state the list's subscription has seen, if any. */
  live: RunSummary | undefined;
  onAccessError(e: VigilApiError): void;
  now: number;
}

/**
 * One execution: its state, re-read after each of its events (the event itself is the trigger, nothing polls),
 * and the event log streaming live.
 */
export function ExecutionDetailView({ client, id, viewer, live, onAccessError, now }: DetailProps) {
  const [detail, setDetail] = useState<RunDetail | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<VigilApiError | null>(null);
  const [confirm, setConfirm] = useState<Target | null>(null);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const inflight = useRef<{ running: boolean; again: boolean }>({ running: false, again: false });

  const refresh = useCallback(async () => {
    const f = inflight.current;
    if (f.running) {
      f.again = true;
      return;
    }
    f.running = true;
    try {
      do {
        f.again = false;
        const r = await query(client, RunGet, { id });
        setDetail((prev) => (prev && r.execution && !newer(prev, r.execution) ? prev : r.execution));
        setLoadError(null);
      } while (f.again);
    } catch (err) {
      const e = err as VigilApiError;
      if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') onAccessError(e);
      setLoadError(e);
    } finally {
      f.running = false;
    }
  }, [client, id, onAccessError]);

  useEffect(() => {
    setDetail(undefined);
    setNotice(null);
    void refresh();
  }, [refresh]);

  const output = useLogStore(id);
  const log = useEventLog(client, id, () => void refresh(), onAccessError, output.append);
  const logRef = useRef<HTMLOListElement>(null);
  const follow = useRef(true);
  // keep the newest event in view while the reader is at the bottom of the log; leave it alone once they scroll up
  useEffect(() => {
    const el = logRef.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [log.events.length]);

  if (detail === undefined && !loadError) return <p class="loading">Loading…</p>;
  if (!detail) {
    return (
      <section class="detail">
        <a href="#/">← All executions</a>
        <p class="notice error">{loadError ? loadError.message : `Execution ${id} was not found.`}</p>
      </section>
    );
  }
  const e: RunDetail = live && newer(detail, live) ? { ...detail, ...live } : detail;
  const terminal = isTerminal(e.status);
  const canWrite = viewer.scopes.includes('executions:write');
  const canAdmin = viewer.scopes.includes('executions:admin');

  const act = async (status: Target, reason: string) => {
    setConfirm(null);
    try {
      const errorInfo = status === 'FAILED' && reason ? { message: reason } : undefined;
      const r = await query(client, UpdateStatus, { id, status, errorInfo });
      setNotice({ text: r.updateExecutionStatus.message, error: !r.updateExecutionStatus.success });
      void refresh();
    } catch (err) {
      const ex = err as VigilApiError;
      if (ex.code === 'UNAUTHORIZED') onAccessError(ex);
      setNotice({ text: ex.message, error: true });
    }
  };

  const pin = async (pinned: boolean) => {
    try {
      await query(client, SetPinned, { id, pinned });
      void refresh();
    } catch (err) {
      const ex = err as VigilApiError;
      if (ex.code === 'UNAUTHORIZED') onAccessError(ex);
      setNotice({ text: ex.message, error: true });
    }
  };

  const s = e.stats;
  return (
    <section class="detail" data-testid="detail" data-status={e.status}>
      <a href="#/">← All executions</a>
      <header class="detail-head">
        <div>
          <h1>
            {e.workflowId}
            {e.workflowVersion && <small> v{e.workflowVersion}</small>}
          </h1>
          <code class="id">{e.id}</code>
        </div>
        <div class="detail-marks">
          <button
            type="button"
            class={e.pinned ? 'pin on' : 'pin'}
            data-testid="pin"
            aria-pressed={e.pinned}
            disabled={!canWrite}
            title={
              e.pinned ? 'Pinned: retention keeps it and its tree (click to unpin)' : 'Pin: keep it from retention'
            }
            onClick={() => void pin(!e.pinned)}
          >
            <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
              <path d="M5 1h6v1.5L10 3.5v4l2.5 2.5v1h-4V15h-1v-4h-4v-1L6 7.5v-4L5 2.5z" />
            </svg>
            <span class="sr-only">{e.pinned ? 'Unpin' : 'Pin'}</span>
          </button>
          <StatusBadge status={e.status} />
        </div>
      </header>
      <div class="lineage">
        <TagList tags={e.tags} />
        {e.parent && (
          <span class="parent" data-testid="parent">
            started by{' '}
            <a href={`#/executions/${e.parent.id}`}>
              <strong>{e.parent.workflowId}</strong> <code>{shortId(e.parent.id)}</code>
            </a>
          </span>
        )}
      </div>
      {(e.attempt > 1 || e.retryOf) && (
        <Attempts client={client} id={e.id} retryOf={e.retryOf} version={e.lastSequence} />
      )}
      <div class="progress-line">
        <ProgressBar percentage={e.progress?.percentage} status={e.status} />
        <span class="step">{e.progress?.step ?? ''}</span>
      </div>

      {!terminal && (canWrite || canAdmin) && (
        <div class="actions" data-testid="actions">
          {canWrite && (
            <button type="button" class="danger" onClick={() => setConfirm('CANCELLED')}>
              Cancel execution
            </button>
          )}
          {canAdmin && (
            <>
              <button type="button" onClick={() => setConfirm('FAILED')}>
                Mark failed
              </button>
              <button type="button" onClick={() => setConfirm('COMPLETED')}>
                Mark completed
              </button>
            </>
          )}
        </div>
      )}
      {notice && (
        <p class={notice.error ? 'notice error' : 'notice'} role="status">
          {notice.text}
        </p>
      )}
      {confirm && (
        <Confirm
          title={
            { CANCELLED: 'Cancel this execution?', FAILED: 'Mark as failed?', COMPLETED: 'Mark as completed?' }[confirm]
          }
          confirmLabel={{ CANCELLED: 'Cancel execution', FAILED: 'Mark failed', COMPLETED: 'Mark completed' }[confirm]}
          danger={confirm !== 'COMPLETED'}
          reasonLabel={confirm === 'FAILED' ? 'Reason (optional)' : undefined}
          onConfirm={(reason) => void act(confirm, reason)}
          onClose={() => setConfirm(null)}
        >
          {confirm === 'CANCELLED'
            ? 'The worker learns of it at its next report and stops. This cannot be undone.'
            : 'For clean-up of a stuck run: the status becomes final and the worker can no longer report.'}
        </Confirm>
      )}

      {e.error && (
        <div class="notice error" data-testid="error">
          <strong>{e.error.code}</strong>: {e.error.message}
          {e.error.step && <> (step {e.error.step})</>}
          {e.error.details != null && (
            <pre class="error-details" data-testid="error-details">
              {JSON.stringify(e.error.details, null, 2)}
            </pre>
          )}
        </div>
      )}

      <div class="cards">
        <dl class="card">
          <dt>Created</dt>
          <dd>
            <Time iso={e.createdAt} />
          </dd>
          <dt>Started</dt>
          <dd>
            <Time iso={e.startedAt} />
          </dd>
          <dt>Completed</dt>
          <dd>
            <Time iso={e.completedAt} />
          </dd>
          <dt>Duration</dt>
          <dd>
            <Duration ms={elapsedMs(e, now)} />
          </dd>
          <dt>Trigger</dt>
          <dd>
            {e.trigger?.type ?? '—'}
            {e.initiatedBy && <> by {e.initiatedBy}</>}
          </dd>
          <dt>Environment</dt>
          <dd>{e.environment.toLowerCase()}</dd>
        </dl>
        <dl class="card" data-testid="stats">
          <dt>Messages</dt>
          <dd>{s.totalMessages}</dd>
          <dt>Completed</dt>
          <dd>{s.completedMessages}</dd>
          <dt>Failed</dt>
          <dd>{s.failedMessages}</dd>
          <dt>In progress</dt>
          <dd>{s.inProgressMessages}</dd>
          <dt>Success rate</dt>
          <dd data-testid="success-rate">
            {s.completedMessages + s.failedMessages > 0 ? `${(s.successRate * 100).toFixed(1)}%` : '—'}
          </dd>
        </dl>
      </div>

      <h2>Steps</h2>
      {e.steps.length === 0 ? <p class="empty">No steps reported.</p> : <StepTimeline e={e} now={now} />}

      <Children client={client} id={e.id} now={now} onAccessError={onAccessError} />

      <LogPane store={output} state={log.state} name={`${e.workflowId}-${e.id}`} />

      <h2>
        Events <LiveDot state={log.state} />
      </h2>
      {log.error && <p class="notice error">{log.error.message}</p>}
      <ol
        class="events"
        data-testid="events"
        aria-live="polite"
        ref={logRef}
        onScroll={(ev) => {
          const el = ev.currentTarget;
          follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {log.events.map((ev) => (
          <li key={ev.sequence} data-type={ev.type}>
            <span class="seq">#{ev.sequence}</span>
            <time dateTime={ev.occurredAt}>{new Date(ev.occurredAt).toLocaleTimeString()}</time>
            <span class="type">{ev.type === 'STATUS_CHANGED' ? 'status' : ev.type.toLowerCase()}</span>
            <span class="text">{describeEvent(ev)}</span>
          </li>
        ))}
      </ol>

      {[
        ['Inputs', e.inputs],
        ['Output', e.output],
        ['Metadata', e.metadata],
      ].map(([label, value]) =>
        value == null ? null : (
          <details key={label as string}>
            <summary>{label as string}</summary>
            <pre>{JSON.stringify(value, null, 2)}</pre>
          </details>
        ),
      )}
    </section>
  );
}

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDuration, formatPercent } from '../../client/documents.js';
import type { Connection } from './live.js';

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`badge s-${status.toLowerCase()}`} data-testid="status">
      {status.replaceAll('_', ' ')}
    </span>
  );
}

export function ProgressBar({ percentage, status }: { percentage: number | null | undefined; status: string }) {
  const p = Math.max(0, Math.min(100, percentage ?? (status === 'COMPLETED' ? 100 : 0)));
  return (
    <span class="progress" data-testid="progress" data-value={p}>
      <span
        class={`bar s-${status.toLowerCase()}`}
        role="progressbar"
        aria-valuenow={p}
        aria-valuemin={0}
        aria-valuemax={100}
        style={{ width: `${p}%` }}
      />
      <span class="label">{formatPercent(p)}</span>
    </span>
  );
}

/** "12s ago", "5m ago", "3h ago", else the date. */
export function age(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (ms < 45_000) return `${Math.max(0, Math.round(ms / 1000))}s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)}h ago`;
  return new Date(iso).toLocaleDateString();
}

export function Duration({ ms }: { ms: number | null }) {
  return <>{ms == null ? '—' : formatDuration(ms)}</>;
}

export function Time({ iso }: { iso: string | null }) {
  if (!iso) return <>—</>;
  return <time dateTime={iso}>{new Date(iso).toLocaleString()}</time>;
}

export function LiveDot({ state }: { state: Connection | 'ended' }) {
  const label = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', ended: 'ended' }[state];
  return (
    <span class={`live is-${state}`} data-testid="live" data-state={state} title={`Live updates: ${label}`}>
      {label}
    </span>
  );
}

export interface ConfirmProps {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  children: ComponentChildren;
  /** Shown with a text field whose value is passed to onConfirm. */
  reasonLabel?: string;
  onConfirm(reason: string): void;
  onClose(): void;
}

/** A modal `<dialog>`: Escape or "Back" closes it without doing anything. */
export function Confirm({ title, confirmLabel, danger, children, reasonLabel, onConfirm, onClose }: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} class="confirm" onClose={onClose} aria-labelledby="confirm-title">
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          onConfirm(reason);
        }}
      >
        <h2 id="confirm-title">{title}</h2>
        <div class="confirm-body">{children}</div>
        {reasonLabel && (
          <label class="field">
            {reasonLabel}
            <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={500} />
          </label>
        )}
        <div class="actions">
          <button type="button" onClick={onClose}>
            Back
          </button>
          <button type="submit" class={danger ? 'danger' : 'primary'} autofocus>
            {confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

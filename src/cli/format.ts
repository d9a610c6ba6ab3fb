import pc from 'picocolors';
import { describeEvent, elapsedMs, formatDuration, formatPercent } from '../client/documents.js';
import type { ExecutionSummary, ListRow, RunDetail, WatchEvent } from './documents.js';

/** Colours follow the dashboard's: green done, red failed, yellow cancelled, blue running. */
export function colorStatus(status: string): string {
  switch (status) {
    case 'COMPLETED':
      return pc.green(status);
    case 'FAILED':
    case 'TIMED_OUT':
      return pc.red(status);
    case 'CANCELLED':
      return pc.yellow(status);
    case 'RUNNING':
      return pc.blue(status);
    default:
      return pc.magenta(status);
  }
}

/** A coloured status padded to a column width (padding outside the colour codes, so columns line up). */
export function statusCell(status: string, width: number): string {
  return colorStatus(status) + ' '.repeat(Math.max(0, width - status.length));
}

function ago(iso: string, now: number): string {
  return `${formatDuration(now - Date.parse(iso)).replace(/\.\d s$/, ' s')} ago`;
}

function duration(e: ExecutionSummary, now: number): string {
  const ms = elapsedMs(e, now);
  return ms == null ? '—' : formatDuration(ms);
}

function progress(e: ExecutionSummary): string {
  if (!e.progress) return '—';
  return `${formatPercent(e.progress.percentage)}${e.progress.step ? ` ${e.progress.step}` : ''}`;
}

/** One line: status, workflow, id, progress, duration (what `wait` and `watch` print at the end). */
export function summaryLine(e: ExecutionSummary, now = Date.now()): string {
  const parts = [colorStatus(e.status), pc.bold(e.workflowId), pc.dim(e.id), progress(e), duration(e, now)];
  if (e.error) parts.push(pc.red(`${e.error.code}: ${e.error.message}`));
  return parts.join('  ');
}

/** Rows `vigil get` adds for the run model (API.md §8): `tags` after the environment, `lineage` after the trigger. */
export interface MoreRows {
  tags?: [string, string][];
  lineage?: [string, string][];
}

/** `vigil get`: the execution as a readable block. */
export function detailText(e: RunDetail, now = Date.now(), more: MoreRows = {}): string {
  const s = e.stats;
  const rows: [string, string][] = [
    ['id', e.id],
    ['status', colorStatus(e.status)],
    ['workflow', `${e.workflowId}${e.workflowVersion ? ` v${e.workflowVersion}` : ''}`],
    ['environment', e.environment.toLowerCase()],
    ...(more.tags ?? []),
    ['progress', progress(e)],
    ['created', `${e.createdAt} (${ago(e.createdAt, now)})`],
    ['started', e.startedAt ?? '—'],
    ['completed', e.completedAt ?? '—'],
    ['duration', duration(e, now)],
    ['trigger', `${e.trigger?.type ?? '—'}${e.initiatedBy ? ` by ${e.initiatedBy}` : ''}`],
    ...(more.lineage ?? []),
    [
      'messages',
      `${s.totalMessages} total, ${s.completedMessages} completed, ${s.failedMessages} failed, ` +
        `${s.inProgressMessages} in progress` +
        (s.completedMessages + s.failedMessages > 0 ? ` (success ${(s.successRate * 100).toFixed(1)}%)` : ''),
    ],
  ];
  if (e.error)
    rows.push(['error', pc.red(`${e.error.code}: ${e.error.message}${e.error.step ? ` (step ${e.error.step})` : ''}`)]);
  if (e.error?.details != null) {
    // The JSON attached to the error: on one line when short, else indented under the value column
    const compact = JSON.stringify(e.error.details);
    const pretty = JSON.stringify(e.error.details, null, 2).replaceAll('\n', `\n${' '.repeat(12)}`);
    rows.push(['details', compact.length <= 80 ? compact : pretty]);
  }
  const lines = rows.map(([k, v]) => `${pc.dim(k.padEnd(12))}${v}`);
  if (e.steps.length) {
    lines.push(pc.dim('steps'));
    for (const st of e.steps) {
      const d = st.durationMs == null ? '' : `  ${formatDuration(st.durationMs)}`;
      const err = st.error ? pc.red(`  ${st.error.code}: ${st.error.message}`) : '';
      lines.push(`  ${statusCell(st.skipped ? 'SKIPPED' : st.status, 9)}  ${st.name ?? st.id}${d}${err}`);
    }
  }
  return lines.join('\n');
}

/** `key=value` pairs, as `vigil list --tag` takes them. */
export const tagsText = (tags: ListRow['tags']): string => tags.map((t) => `${t.key}=${t.value}`).join(' ');

/** `vigil list`: a table, newest first; a TAGS column when any row has tags. */
export function listText(items: ListRow[], now = Date.now()): string {
  const tagged = items.some((e) => e.tags.length);
  const header = ['ID', 'STATUS', 'WORKFLOW', 'PROGRESS', 'CREATED', 'DURATION', ...(tagged ? ['TAGS'] : [])];
  const rows = items.map((e) => [
    e.id,
    e.status,
    e.workflowId,
    progress(e),
    ago(e.createdAt, now),
    duration(e, now),
    ...(tagged ? [tagsText(e.tags)] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], color?: (s: string, i: number) => string) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0);
        return color ? color(padded, i) : padded;
      })
      .join('  ')
      .trimEnd();
  return [
    pc.dim(line(header)),
    ...rows.map((r) => line(r, (s, i) => (i === 1 ? statusCell(s.trim(), s.length) : s))),
  ].join('\n');
}

/** `vigil watch` without a terminal: one plain line per event. */
export function eventLine(e: WatchEvent): string {
  const t = e.occurredAt.slice(11, 19);
  return `${pc.dim(t)} ${pc.dim(`#${e.sequence}`.padEnd(5))} ${e.type.padEnd(14)} ${describeEvent(e)}`;
}

import pc from 'picocolors';
import type { VigilClient } from '../client/client.js';
import { formatDuration } from '../client/documents.js';
import type { ResultOf } from '../client/sdk/graphql.js';
import { query } from '../client/sdk/transport.js';
import { ChildCounts, Retries, RunView as RunViewQuery } from './documents.js';
import { colorStatus, type MoreRows, statusCell, tagsText } from './format.js';

/** How many children `vigil get` lists; the rest are `vigil list --parent ID`. */
export const FIRST_CHILDREN = 5;
/** A chain of retries is followed this far at most (one request per attempt after the first two). */
const MAX_CHAIN = 32;

type RunViewResult = ResultOf<typeof RunViewQuery>;
type StatusCounts = RunViewResult['childCounts'];
type Relative = NonNullable<RunViewResult['execution']>['retries'][number];

export interface RunView {
  execution: NonNullable<RunViewResult['execution']>;
  childCounts: StatusCounts;
  /** The highest attempt of its chain of retries (the "3" of "attempt 2 of 3"). */
  lastAttempt: number;
}

/** One execution with its relatives, the chain of retries followed to its newest attempt; null when not found. */
export async function getRun(client: VigilClient, id: string): Promise<RunView | null> {
  const r = await query(client, RunViewQuery, { id, children: FIRST_CHILDREN });
  if (!r.execution) return null;
  let lastAttempt = r.execution.attempt;
  let newest = r.execution.retries.at(-1);
  for (let i = 0; newest && i < MAX_CHAIN; i++) {
    lastAttempt = Math.max(lastAttempt, newest.attempt);
    const next: ResultOf<typeof Retries> = await query(client, Retries, { id: newest.id });
    newest = next.execution?.retries.at(-1);
  }
  return { execution: r.execution, childCounts: r.childCounts, lastAttempt };
}

/** `3 · 1 completed, 2 running` (statuses with a count, in the schema's order). */
export function countsText(c: StatusCounts): string {
  const parts = c.byStatus.filter((s) => s.count > 0).map((s) => `${s.count} ${s.status.toLowerCase()}`);
  return parts.length ? `${c.total} · ${parts.join(', ')}` : String(c.total);
}

function relativeLine(r: Relative, now: number): string {
  const d = r.durationMs != null ? formatDuration(r.durationMs) : formatDuration(now - Date.parse(r.createdAt));
  const tags = r.tags.length ? `  ${pc.dim(tagsText(r.tags))}` : '';
  return `  ${statusCell(r.status, 9)}  ${r.id}  ${pc.bold(r.workflowId)}  ${pc.dim(`attempt ${r.attempt}`)}  ${d}${tags}`;
}

/** The rows `vigil get` adds: tags; parent, root, children, attempt and retries. */
export function runRows(v: RunView, now = Date.now()): MoreRows {
  const e = v.execution;
  const lineage: [string, string][] = [];
  if (e.parent)
    lineage.push(['parent', `${e.parent.id}  ${pc.bold(e.parent.workflowId)}  ${colorStatus(e.parent.status)}`]);
  if (e.rootExecutionId !== e.id && e.rootExecutionId !== e.parentExecutionId)
    lineage.push(['root', e.rootExecutionId]);
  if (v.childCounts.total > 0) {
    const lines = [countsText(v.childCounts), ...e.children.nodes.map((c) => relativeLine(c, now))];
    const more = v.childCounts.total - e.children.nodes.length;
    if (more > 0) lines.push(pc.dim(`  … ${more} more: vigil list --parent ${e.id}`));
    lineage.push(['children', lines.join('\n')]);
  } else {
    lineage.push(['children', pc.dim('none')]);
  }
  const attempt = [`${e.attempt} of ${v.lastAttempt}`];
  if (e.retryOf) attempt.push(`retry of ${e.retryOf}`);
  lineage.push(['attempt', attempt.join(' · ')]);
  lineage.push(['pinned', e.pinned ? 'yes: kept by retention, with its tree' : pc.dim('no')]);
  if (e.retries.length)
    lineage.push(['retries', e.retries.map((r) => relativeLine(r, now).trimStart()).join(`\n${' '.repeat(12)}`)]);
  return { tags: [['tags', e.tags.length ? tagsText(e.tags) : pc.dim('none')]], lineage };
}

/** The children of an execution counted by status (`vigil cancel --cascade` says what became of them). */
export async function childCounts(client: VigilClient, id: string): Promise<StatusCounts> {
  return (await query(client, ChildCounts, { id })).executionCounts;
}

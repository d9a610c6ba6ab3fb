import { type Command, InvalidArgumentError } from 'commander';
import { type ExecutionStatus, STATUSES } from '../client/documents.js';
import type { Tag } from '../client/run-model.js';
import type { ResultOf } from '../client/sdk/graphql.js';
import { query } from '../client/sdk/transport.js';
import { asCliExit, CliExit, type ConnectionOptions, clientFor, EXIT, withConnectionOptions } from './connect.js';
import { Cancel, RunList } from './documents.js';
import { detailText, listText } from './format.js';
import { parseSince, parseTag } from './run-options.js';

const print = (text: string) => process.stdout.write(`${text}\n`);
const json = (value: unknown) => print(JSON.stringify(value, null, 2));

/** `vigil get`, `vigil list`, `vigil cancel`: one request each. Exit 0, or 3 with a message on stderr. */
export function registerExecutionCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('get')
      .description(
        'Show one execution: status, progress, timing, tags, parent, children, attempt and retries, ' +
          'message stats, steps, error',
      )
      .argument('<id>', 'execution id'),
  ).action(async (id: string, opts: ConnectionOptions) => {
    const client = clientFor(opts);
    try {
      const { getRun, runRows } = await import('./run-detail.js');
      const run = await getRun(client, id);
      if (!run) throw new CliExit(EXIT.error, `execution ${id} not found`);
      const { execution, childCounts, lastAttempt } = run;
      print(
        opts.json
          ? JSON.stringify({ ...execution, childCounts, lastAttempt }, null, 2)
          : detailText(execution, Date.now(), runRows(run)),
      );
    } catch (err) {
      throw asCliExit(err, opts, id);
    }
  });

  withConnectionOptions(
    program
      .command('list')
      .description('List executions, newest first')
      .option('--status <statuses>', `only these statuses, comma-separated (${STATUSES.join(', ')})`, parseStatuses)
      .option('--workflow <id>', 'only this workflow')
      .option('--workflow-prefix <prefix>', 'only workflows whose id starts with this')
      .option('--tag <key=value>', 'only executions with this tag (repeatable: every one must match)', parseTag)
      .option('--parent <id>', 'only the children of this execution')
      .option('--since <duration>', 'only those created in the last 30m, 2h, 7d, …', parseSince)
      .option('--limit <n>', 'at most this many (1..500)', parseLimit, 20),
  ).action(async (opts: ListOptions) => {
    const client = clientFor(opts);
    try {
      const filter = {
        ...(opts.status && { status: opts.status }),
        ...(opts.workflow && { workflowId: opts.workflow }),
        ...(opts.workflowPrefix && { workflowIdPrefix: opts.workflowPrefix }),
        ...(opts.tag && { tags: opts.tag }),
        ...(opts.parent && { parentExecutionId: opts.parent }),
        ...(opts.since && { createdAfter: new Date(Date.now() - opts.since).toISOString() }),
      };
      const items: ResultOf<typeof RunList>['executions']['nodes'] = [];
      let after: string | null = null;
      do {
        const r: ResultOf<typeof RunList> = await query(client, RunList, {
          filter,
          first: Math.min(100, opts.limit - items.length),
          after,
        });
        items.push(...r.executions.nodes);
        after = r.executions.pageInfo.hasNextPage ? r.executions.pageInfo.endCursor : null;
      } while (after && items.length < opts.limit);
      if (opts.json) json(items);
      else print(items.length ? listText(items) : 'No executions.');
    } catch (err) {
      throw asCliExit(err, opts);
    }
  });

  withConnectionOptions(
    program
      .command('cancel')
      .description(
        'Cancel an execution (needs executions:write). Exit 0 when it is cancelled (also if it already was), ' +
          '1 when it had already ended otherwise, 3 on errors',
      )
      .argument('<id>', 'execution id')
      .option('--cascade', 'also cancel every descendant that has not ended (children, their children, …)'),
  ).action(async (id: string, opts: ConnectionOptions & { cascade?: boolean }) => {
    const client = clientFor(opts);
    try {
      const cascade = opts.cascade === true;
      const r = await query(client, Cancel, { id, cascade });
      const u = r.updateExecutionStatus;
      if (!cascade) {
        if (opts.json) json(u);
        else print(`${u.message} (${u.previousStatus} → ${u.currentStatus})`);
        return;
      }
      // What became of the children (their own descendants were cancelled with them, in the same transaction)
      const { childCounts, countsText } = await import('./run-detail.js');
      const children = await childCounts(client, id);
      if (opts.json) json({ ...u, childCounts: children });
      else {
        print(`${u.message} (${u.previousStatus} → ${u.currentStatus})`);
        print(`children: ${children.total ? countsText(children) : 'none'}`);
      }
    } catch (err) {
      if ((err as { code?: string }).code === 'INVALID_STATUS_TRANSITION') {
        if (opts.json) json({ success: false, code: 'INVALID_STATUS_TRANSITION', message: (err as Error).message });
        throw new CliExit(EXIT.failed, `not cancelled: ${(err as Error).message}`);
      }
      throw asCliExit(err, opts, id);
    }
  });
}

type ListOptions = ConnectionOptions & {
  status?: ExecutionStatus[];
  workflow?: string;
  workflowPrefix?: string;
  tag?: Tag[];
  parent?: string;
  since?: number;
  limit: number;
};

function parseStatuses(value: string): ExecutionStatus[] {
  const list = value
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const unknown = list.filter((s) => !(STATUSES as readonly string[]).includes(s));
  if (unknown.length || !list.length) {
    throw new InvalidArgumentError(`expected one or more of ${STATUSES.join(', ')}`);
  }
  return list as ExecutionStatus[];
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new InvalidArgumentError('expected an integer 1..500');
  return n;
}

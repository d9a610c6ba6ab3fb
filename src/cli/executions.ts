import { type Command, InvalidArgumentError } from 'commander';
import {
  GET,
  type GetResult,
  LIST,
  type ListResult,
  STATUSES,
  UPDATE_STATUS,
  type UpdateStatusResult,
} from '../client/documents.js';
import { asCliExit, CliExit, type ConnectionOptions, clientFor, EXIT, withConnectionOptions } from './connect.js';
import { detailText, listText } from './format.js';

const print = (text: string) => process.stdout.write(`${text}\n`);
const json = (value: unknown) => print(JSON.stringify(value, null, 2));

/** `vigil get`, `vigil list`, `vigil cancel`: one request each. Exit 0, or 3 with a message on stderr. */
export function registerExecutionCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('get')
      .description('Show one execution: status, progress, timing, message stats, steps, error')
      .argument('<id>', 'execution id'),
  ).action(async (id: string, opts: ConnectionOptions) => {
    const client = clientFor(opts);
    try {
      const { execution } = await client.request<GetResult>(GET, { id });
      if (!execution) throw new CliExit(EXIT.error, `execution ${id} not found`);
      print(opts.json ? JSON.stringify(execution, null, 2) : detailText(execution));
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
      .option('--limit <n>', 'at most this many (1..500)', parseLimit, 20),
  ).action(async (opts: ConnectionOptions & { status?: string[]; workflow?: string; limit: number }) => {
    const client = clientFor(opts);
    try {
      const filter = {
        ...(opts.status && { status: opts.status }),
        ...(opts.workflow && { workflowId: opts.workflow }),
      };
      const items: ListResult['executions']['nodes'] = [];
      let after: string | null = null;
      do {
        const r: ListResult = await client.request<ListResult>(LIST, {
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
      .argument('<id>', 'execution id'),
  ).action(async (id: string, opts: ConnectionOptions) => {
    const client = clientFor(opts);
    try {
      const r = await client.request<UpdateStatusResult>(UPDATE_STATUS, { id, status: 'CANCELLED' });
      const u = r.updateExecutionStatus;
      if (opts.json) json(u);
      else print(`${u.message} (${u.previousStatus} → ${u.currentStatus})`);
    } catch (err) {
      if ((err as { code?: string }).code === 'INVALID_STATUS_TRANSITION') {
        if (opts.json) json({ success: false, code: 'INVALID_STATUS_TRANSITION', message: (err as Error).message });
        throw new CliExit(EXIT.failed, `not cancelled: ${(err as Error).message}`);
      }
      throw asCliExit(err, opts, id);
    }
  });
}

function parseStatuses(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const unknown = list.filter((s) => !(STATUSES as readonly string[]).includes(s));
  if (unknown.length || !list.length) {
    throw new InvalidArgumentError(`expected one or more of ${STATUSES.join(', ')}`);
  }
  return list;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new InvalidArgumentError('expected an integer 1..500');
  return n;
}

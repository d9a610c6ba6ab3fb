/**
 * The stock peer of the user-facing bench (issue 22): what a user would write in an afternoon instead of Vigil —
 * graphql-yoga + Pothos + postgres.js + @graphql-yoga/plugin-graphql-sse, the same table shape for executions and
 * events (its own schema in its own database), pg_notify in the write transaction, one LISTEN, a Repeater per
 * subscription and a Promise per wait. Written plainly on purpose: it is the yardstick, not a second Vigil.
 */
import { createServer, type Server } from 'node:http';
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import SchemaBuilder from '@pothos/core';
import { Repeater } from '@repeaterjs/repeater';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import postgres from 'postgres';

const DDL = `
create table if not exists executions (
  id uuid primary key default gen_random_uuid(),
  workflow_id text not null,
  status text not null default 'PENDING',
  progress jsonb,
  total_messages int not null default 0,
  completed_messages int not null default 0,
  failed_messages int not null default 0,
  in_progress_messages int not null default 0,
  last_sequence int not null default 0,
  created_at timestamptz(3) not null default now(),
  updated_at timestamptz(3) not null default now()
);
create table if not exists execution_events (
  execution_id uuid not null references executions(id) on delete cascade,
  sequence int not null,
  type text not null,
  payload jsonb not null,
  occurred_at timestamptz(3) not null default now(),
  recorded_at timestamptz(3) not null default now(),
  primary key (execution_id, sequence)
);`;

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

interface Row {
  id: string;
  workflow_id: string;
  status: string;
  progress: { step?: string; percentage: number } | null;
  total_messages: number;
  completed_messages: number;
  failed_messages: number;
  in_progress_messages: number;
  last_sequence: number;
  created_at: Date;
}
interface Event {
  executionId: string;
  sequence: number;
  type: string;
  payload: unknown;
}
interface EventInput {
  message?: { messageId: string; status: string } | null;
  progress?: { step?: string | null; percentage: number } | null;
}

export async function startStock(databaseUrl: string, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const sql = postgres(databaseUrl, { max: 20, onnotice: () => {} });
  await sql.unsafe(DDL);
  const subscribers = new Map<string, Set<(e: Event) => void>>();
  const waiters = new Map<string, Set<(completed: boolean) => void>>();
  await sql.listen('execution_events', (text) => {
    const event = JSON.parse(text) as Event;
    for (const push of subscribers.get(event.executionId) ?? []) push(event);
    const to = (event.payload as { to?: string }).to;
    if (event.type === 'STATUS_CHANGED' && to && TERMINAL.has(to)) {
      for (const done of waiters.get(event.executionId) ?? []) done(true);
    }
  });
  const load = async (id: string) => (await sql<Row[]>`select * from executions where id = ${id}`)[0];
  const mustLoad = async (id: string) => {
    const row = await load(id);
    if (!row) throw new GraphQLError('execution not found', { extensions: { code: 'EXECUTION_NOT_FOUND' } });
    return row;
  };
  /** Inserts the events and notifies each, in the caller's transaction (so NOTIFY is sent at COMMIT). */
  const append = async (
    tx: postgres.TransactionSql,
    id: string,
    first: number,
    rows: { type: string; payload: unknown }[],
  ) => {
    const values = rows.map((r, i) => ({ execution_id: id, sequence: first + i, type: r.type, payload: r.payload }));
    await tx`insert into execution_events ${tx(values as never)}`;
    const events = values.map((v) => ({ executionId: id, sequence: v.sequence, type: v.type, payload: v.payload }));
    await tx`select pg_notify('execution_events', e::text) from json_array_elements(${events as never}::json) e`;
  };

  const builder = new SchemaBuilder<{ Scalars: { ID: { Input: string; Output: string } } }>({});
  const Progress = builder.objectRef<NonNullable<Row['progress']>>('Progress').implement({
    fields: (t) => ({
      step: t.string({ nullable: true, resolve: (p) => p.step ?? null }),
      percentage: t.exposeFloat('percentage'),
    }),
  });
  const Stats = builder.objectRef<Row>('ExecutionStats').implement({
    fields: (t) => ({
      totalMessages: t.int({ resolve: (r) => r.total_messages }),
      completedMessages: t.int({ resolve: (r) => r.completed_messages }),
      failedMessages: t.int({ resolve: (r) => r.failed_messages }),
      inProgressMessages: t.int({ resolve: (r) => r.in_progress_messages }),
      successRate: t.float({
        resolve: (r) => r.completed_messages / Math.max(1, r.completed_messages + r.failed_messages),
      }),
    }),
  });
  const Execution = builder.objectRef<Row>('Execution').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      status: t.exposeString('status'),
      workflowId: t.string({ resolve: (r) => r.workflow_id }),
      createdAt: t.string({ resolve: (r) => r.created_at.toISOString() }),
      lastSequence: t.int({ resolve: (r) => r.last_sequence }),
      progress: t.field({ type: Progress, nullable: true, resolve: (r) => r.progress }),
      stats: t.field({ type: Stats, resolve: (r) => r }),
    }),
  });
  const ExecutionEvent = builder.objectRef<Event>('ExecutionEvent').implement({
    fields: (t) => ({
      executionId: t.exposeID('executionId'),
      sequence: t.exposeInt('sequence'),
      type: t.exposeString('type'),
      payload: t.string({ resolve: (e) => JSON.stringify(e.payload) }),
    }),
  });
  const WaitResult = builder.objectRef<{ completed: boolean; id: string }>('ExecutionWaitResult').implement({
    fields: (t) => ({
      completed: t.exposeBoolean('completed'),
      execution: t.field({ type: Execution, resolve: (w) => mustLoad(w.id) }),
    }),
  });
  const RecordResult = builder.objectRef<{ id: string }>('RecordExecutionEventsResult').implement({
    fields: (t) => ({ execution: t.field({ type: Execution, resolve: (r) => mustLoad(r.id) }) }),
  });
  const StatusResult = builder
    .objectRef<{ success: boolean; execution: Row }>('ExecutionStatusUpdateResult')
    .implement({
      fields: (t) => ({
        success: t.exposeBoolean('success'),
        execution: t.field({ type: Execution, resolve: (r) => r.execution }),
      }),
    });
  const Target = builder.enumType('ExecutionStatusTarget', { values: ['COMPLETED', 'FAILED', 'CANCELLED'] as const });
  const CreateInput = builder.inputType('CreateExecutionInput', {
    fields: (t) => ({ workflowId: t.string({ required: true }) }),
  });
  const MessageInput = builder.inputType('MessageInput', {
    fields: (t) => ({ messageId: t.string({ required: true }), status: t.string({ required: true }) }),
  });
  const ProgressInput = builder.inputType('ProgressInput', {
    fields: (t) => ({ step: t.string(), percentage: t.float({ required: true }) }),
  });
  const EventInput = builder.inputType('ExecutionEventInput', {
    fields: (t) => ({ message: t.field({ type: MessageInput }), progress: t.field({ type: ProgressInput }) }),
  });

  builder.queryType({
    fields: (t) => ({
      execution: t.field({
        type: Execution,
        nullable: true,
        args: { id: t.arg.id({ required: true }) },
        resolve: (_, { id }) => load(id),
      }),
      waitForExecution: t.field({
        type: WaitResult,
        args: { id: t.arg.id({ required: true }), timeout: t.arg.float() },
        resolve: async (_, { id, timeout }) => {
          // Registered before the read, so a change committed in between is not missed.
          let done: (completed: boolean) => void = () => {};
          const answer = new Promise<boolean>((resolve) => {
            const set = waiters.get(id) ?? new Set();
            waiters.set(id, set);
            const timer = setTimeout(() => done(false), (timeout ?? 300) * 1000);
            done = (completed) => {
              clearTimeout(timer);
              set.delete(done);
              if (set.size === 0) waiters.delete(id);
              resolve(completed);
            };
            set.add(done);
          });
          const row = await load(id);
          if (!row) done(false);
          else if (TERMINAL.has(row.status)) done(true);
          if (!row) throw new GraphQLError('execution not found', { extensions: { code: 'EXECUTION_NOT_FOUND' } });
          return { completed: await answer, id };
        },
      }),
    }),
  });
  builder.mutationType({
    fields: (t) => ({
      createExecution: t.field({
        type: Execution,
        args: { input: t.arg({ type: CreateInput, required: true }) },
        resolve: async (_, { input }) =>
          (await sql<Row[]>`insert into executions (workflow_id) values (${input.workflowId}) returning *`)[0] as Row,
      }),
      recordExecutionEvents: t.field({
        type: RecordResult,
        args: { executionId: t.arg.id({ required: true }), events: t.arg({ type: [EventInput], required: true }) },
        resolve: async (_, { executionId, events }) => {
          const list = events as EventInput[];
          const count = (s: string[]) => list.filter((e) => e.message && s.includes(e.message.status)).length;
          const progress = list.findLast((e) => e.progress)?.progress ?? null;
          await sql.begin(async (tx) => {
            const [row] = await tx<Row[]>`update executions set
              last_sequence = last_sequence + ${list.length},
              total_messages = total_messages + ${count(['INITIATED'])},
              in_progress_messages = in_progress_messages + ${count(['INITIATED', 'PROCESSING'])},
              completed_messages = completed_messages + ${count(['COMPLETED'])},
              failed_messages = failed_messages + ${count(['FAILED'])},
              progress = coalesce(${progress as never}::jsonb, progress), updated_at = now()
              where id = ${executionId} returning *`;
            if (!row) throw new GraphQLError('execution not found', { extensions: { code: 'EXECUTION_NOT_FOUND' } });
            const rows = list.map((e) =>
              e.message ? { type: 'MESSAGE', payload: e.message } : { type: 'PROGRESS', payload: e.progress },
            );
            await append(tx, executionId, row.last_sequence - list.length + 1, rows);
          });
          return { id: executionId };
        },
      }),
      updateExecutionStatus: t.field({
        type: StatusResult,
        args: { id: t.arg.id({ required: true }), status: t.arg({ type: Target, required: true }) },
        resolve: (_, { id, status }) =>
          sql.begin(async (tx) => {
            const [row] = await tx<Row[]>`update executions e set status = ${status}, updated_at = now(),
              last_sequence = e.last_sequence + 1 from executions old
              where e.id = ${id} and old.id = e.id and e.status not in ('COMPLETED', 'FAILED', 'CANCELLED')
              returning e.*, old.status as from_status`;
            if (!row)
              throw new GraphQLError('not found or already finished', { extensions: { code: 'INVALID_TRANSITION' } });
            const from = (row as unknown as { from_status: string }).from_status;
            await append(tx, id, row.last_sequence, [{ type: 'STATUS_CHANGED', payload: { from, to: status } }]);
            return { success: true, execution: row };
          }),
      }),
    }),
  });
  builder.subscriptionType({
    fields: (t) => ({
      executionEvents: t.field({
        type: ExecutionEvent,
        args: { executionId: t.arg.id({ required: true }), after: t.arg.int(), timeout: t.arg.float() },
        subscribe: (_, { executionId, after, timeout }) =>
          new Repeater<Event>(async (push, stop) => {
            let last = after ?? 0;
            let pending: Event[] | null = [];
            const deliver = (e: Event) => {
              if (e.sequence <= last) return;
              last = e.sequence;
              void push(e);
              const to = (e.payload as { to?: string }).to;
              if (e.type === 'STATUS_CHANGED' && to && TERMINAL.has(to)) stop();
            };
            const listener = (e: Event) => (pending ? pending.push(e) : deliver(e));
            const set = subscribers.get(executionId) ?? new Set();
            subscribers.set(executionId, set);
            set.add(listener);
            const timer = setTimeout(stop, (timeout ?? 300) * 1000);
            const stored = await sql`select sequence, type, payload from execution_events
              where execution_id = ${executionId} and sequence > ${last} order by sequence`;
            for (const r of stored) deliver({ executionId, sequence: r.sequence, type: r.type, payload: r.payload });
            for (const e of pending) deliver(e);
            pending = null;
            await stop;
            clearTimeout(timer);
            set.delete(listener);
            if (set.size === 0) subscribers.delete(executionId);
          }),
        resolve: (e) => e,
      }),
    }),
  });

  const yoga = createYoga({ schema: builder.toSchema(), plugins: [useGraphQLSSE()], logging: false });
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      let open = 0;
      for (const set of waiters.values()) open += set.size;
      res.end(`stock_open_waiters ${open}\n`);
      return;
    }
    void yoga(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sql.end({ timeout: 1 });
    },
  };
}

import type { TestServer } from './harness.js';

/** Runs SQL with parameters on the server's own database connection, whichever driver it is. */
export async function query(s: TestServer, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const n = s.database.notifier;
  if (n.kind === 'postgres') return (await n.sql.unsafe(text, params as never[])) as Record<string, unknown>[];
  return (await n.pg.query<Record<string, unknown>>(text, params)).rows;
}

/**
 * EXPLAIN of a statement as the server runs it: prepared (every query of the server is), executed six times so
 * PostgreSQL settles on its plan (a generic one, made without the parameters' values, if it costs no more), then
 * explained (`options`, e.g. `analyze, costs off`) on a seventh execution, in the same session. The plan's lines.
 */
export async function analyzePrepared(
  s: TestServer,
  statement: { sql: string; params: unknown[] },
  options = 'analyze',
): Promise<string> {
  const literal = (v: unknown) => (typeof v === 'number' ? String(v) : `'${String(v).replaceAll("'", "''")}'`);
  const args = statement.params.length ? `(${statement.params.map(literal).join(', ')})` : '';
  const statements = [
    `prepare analyzed as ${statement.sql}`,
    ...Array.from({ length: 6 }, () => `execute analyzed${args}`),
  ];
  const explain = `explain (${options}) execute analyzed${args}`;
  const n = s.database.notifier;
  if (n.kind === 'postgres') {
    const session = await n.sql.reserve(); // a prepared statement belongs to its session
    try {
      for (const text of statements) await session.unsafe(text);
      const rows = await session.unsafe(explain);
      await session.unsafe('deallocate analyzed');
      return rows.map((r) => String(r['QUERY PLAN'])).join('\n');
    } finally {
      session.release();
    }
  }
  for (const text of statements) await n.pg.query(text);
  const { rows } = await n.pg.query<Record<string, unknown>>(explain);
  await n.pg.query('deallocate analyzed');
  return rows.map((r) => String(r['QUERY PLAN'])).join('\n');
}

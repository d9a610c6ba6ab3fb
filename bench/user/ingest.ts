/**
 * The ingest figures of the user bench: wrk sends `recordExecutionEvents` of PER unique MESSAGE events
 * (`ingest.lua`), round-robin over 256 executions, c=32, every answer checked; the events are counted in the database
 * afterwards, and that count over the run's time is the figure.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { round } from '../clients/common.js';

export interface IngestOptions {
  root: string;
  base: string;
  label: string;
  per: number;
  seconds: number;
  /** Creates one execution on the server, resolves with its id. */
  create: () => Promise<string>;
  /** The MESSAGE events the server has stored. */
  count: () => Promise<number>;
}

export async function ingestRate(o: IngestOptions): Promise<{ eps: number; answered: number; counted: number }> {
  const ids: string[] = [];
  for (let i = 0; i < 256; i += 32) ids.push(...(await Promise.all(Array.from({ length: 32 }, o.create))));
  const file = join(tmpdir(), `vigil-user-ids-${process.pid}-${o.label}.txt`);
  writeFileSync(file, `${ids.join('\n')}\n`);
  const run = (seconds: number, tag: string) => {
    const text = execFileSync(
      'wrk',
      ['-t1', '-c32', `-d${seconds}s`, '-s', join(o.root, 'bench/user/ingest.lua'), `${o.base}/graphql`],
      {
        env: { ...process.env, IDS: file, PER: String(o.per), PREFIX: `${o.label}-${o.per}-${tag}-${Date.now()}` },
        encoding: 'utf8',
        timeout: (seconds + 30) * 1000,
      },
    );
    const m = /CHECKED ok=(\d+) bad=(\d+)/.exec(text);
    return { ok: Number(m?.[1] ?? 0), bad: Number(m?.[2] ?? -1) };
  };
  run(2, 'warm');
  const before = await o.count();
  const started = performance.now();
  const checked = run(o.seconds, 'run');
  const seconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 500)); // let requests in flight when wrk stopped commit before the count
  const counted = (await o.count()) - before;
  if (checked.bad !== 0) throw new Error(`${o.label}: ${checked.bad} ingest answers were not a clean 200`);
  if (counted < checked.ok * o.per) {
    throw new Error(`${o.label}: ${checked.ok * o.per} events answered, ${counted} stored`);
  }
  return { eps: round(counted / seconds, 0), answered: checked.ok, counted };
}

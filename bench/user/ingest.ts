/**
 * The ingest figures of the user bench: wrk sends `recordExecutionEvents` of PER unique MESSAGE events
 * (`ingest.lua`), round-robin over 256 executions, c=32, every answer checked; the events are counted in the database
 * after each slice, and those counts over the slices' time are the figure. The servers take turns in slices (`measure.ts`),
 * so a drift of the machine during the run falls on each of them alike.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import { round } from '../clients/common.js';
import { cpuMs, machineCpuMs } from '../proc.js';
import { createExecution } from './http.js';

interface IngestOptions {
  root: string;
  base: string;
  label: string;
  per: number;
  /** Creates one execution on the server, resolves with its id. */
  create: () => Promise<string>;
  /** The MESSAGE events the server has stored. */
  count: () => Promise<number>;
  /** The server's process, whose CPU time each slice reads (`Slice.serverMs`). */
  pid?: number | undefined;
}

/** One server's ingest, ready to be measured in slices: its 256 executions made and a 2-second warm-up run. */
interface Ingester {
  /** wrk for `seconds`; every answer checked, the events counted once those in flight have committed. */
  slice(seconds: number): Promise<Slice>;
}

async function ingester(o: IngestOptions): Promise<Ingester> {
  const ids: string[] = [];
  for (let i = 0; i < 256; i += 32) ids.push(...(await Promise.all(Array.from({ length: 32 }, o.create))));
  const file = join(tmpdir(), `vigil-user-ids-${process.pid}-${o.label}.txt`);
  writeFileSync(file, `${ids.join('\n')}\n`);
  let runs = 0;
  const run = (seconds: number, tag: string) => {
    const text = execFileSync(
      'wrk',
      ['-t1', '-c32', `-d${seconds}s`, '-s', join(o.root, 'bench/user/ingest.lua'), `${o.base}/graphql`],
      {
        env: {
          ...process.env,
          IDS: file,
          PER: String(o.per),
          PREFIX: `${o.label}-${o.per}-${tag}-${runs++}-${Date.now()}`,
        },
        encoding: 'utf8',
        timeout: (seconds + 30) * 1000,
      },
    );
    const m = /CHECKED ok=(\d+) bad=(\d+)/.exec(text);
    return { ok: Number(m?.[1] ?? 0), bad: Number(m?.[2] ?? -1) };
  };
  run(2, 'warm');
  return {
    async slice(seconds) {
      const before = await o.count();
      const cpuBefore = cpuMs(o.pid);
      const machineBefore = machineCpuMs();
      const started = performance.now();
      const checked = run(seconds, 'run');
      const took = (performance.now() - started) / 1000;
      await new Promise((r) => setTimeout(r, 500)); // let requests in flight when wrk stopped commit before the count
      const serverMs = cpuMs(o.pid) - cpuBefore;
      const machineMs = machineCpuMs() - machineBefore;
      const counted = (await o.count()) - before;
      if (checked.bad !== 0) throw new Error(`${o.label}: ${checked.bad} ingest answers were not a clean 200`);
      if (counted < checked.ok * o.per) {
        throw new Error(`${o.label}: ${checked.ok * o.per} events answered, ${counted} stored`);
      }
      return { seconds: took, counted, serverMs, machineMs };
    },
  };
}

/**
 * A slice's time (s), the events stored in it, the CPU time its server's process used meanwhile and the CPU time the
 * whole machine used (wrk, PostgreSQL and the server; ms, 0 when unknown).
 */
export type Slice = { seconds: number; counted: number; serverMs: number; machineMs: number };

/** A server to ingest into: its base URL, and the database and table its MESSAGE events are counted in. */
export interface IngestServer {
  label: string;
  base: string;
  db: Sql;
  table: 'execution_events' | 'floor_events';
  pid?: number | undefined;
}

/**
 * Each server's ingest of `per` events per call in `turns` slices of `seconds`, the servers taking turns (the user
 * bench, `bench/ab.ts`); answers each server's slices by label.
 */
export async function ingestInTurns(
  root: string,
  servers: readonly IngestServer[],
  per: number,
  turns: number,
  seconds: number,
): Promise<Map<string, Slice[]>> {
  const runners: [string, Ingester][] = [];
  for (const { label, base, db, table, pid } of servers) {
    const runner = await ingester({
      root,
      base,
      label,
      per,
      pid,
      create: () => createExecution(base, 'user-ingest'),
      count: async () =>
        Number((await db.unsafe(`select count(*)::int as n from ${table} where type = 'MESSAGE'`))[0]?.n ?? 0),
    });
    runners.push([label, runner]);
  }
  const slices = new Map(servers.map((s) => [s.label, [] as Slice[]]));
  for (let i = 0; i < turns; i++)
    for (const [label, runner] of runners) slices.get(label)?.push(await runner.slice(seconds));
  return slices;
}

/** CPU time per event stored over the slices, in µs (0 when unknown): the server process's, or the whole machine's. */
export function ingestCpu(slices: readonly Slice[], of: 'serverMs' | 'machineMs' = 'serverMs'): number {
  const events = slices.reduce((sum, s) => sum + s.counted, 0);
  return round((slices.reduce((sum, s) => sum + s[of], 0) * 1000) / Math.max(events, 1), 1);
}

/** The events stored per second over the slices. */
export function ingestRate(slices: readonly Slice[]): number {
  const seconds = slices.reduce((sum, s) => sum + s.seconds, 0);
  return round(slices.reduce((sum, s) => sum + s.counted, 0) / seconds, 0);
}

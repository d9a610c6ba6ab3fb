/**
 * The memory figures of the user bench: RSS of a fresh process that owns the listening socket, warmed by opening and
 * closing 100 connections of the kind (`hold.ts`), read idle before and after holding N of them.
 */
import { readFileSync } from 'node:fs';
import { round } from '../clients/common.js';
import { type Child, holding } from './http.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface HoldOptions {
  /** Starts the fresh server and resolves once it answers; the caller stops it. */
  start: () => Promise<{ server: Child; base: string }>;
  /** Starts `hold.ts` with these arguments. */
  holder: (args: string[]) => Child;
  label: string;
  kind: 'sse' | 'wait';
  n: number;
  /** Waits: half of them seed 000's REST wait (servers that speak it). */
  rest: boolean;
}

/** KB of RSS per held connection. */
export async function kbPerHeld(o: HoldOptions): Promise<number> {
  const { server, base } = await o.start();
  const pid = server.proc.pid as number;
  const holder = o.holder(['--base', base, '--kind', o.kind, '--n', String(o.n), '--rest', String(o.rest)]);
  try {
    await holder.next('warmed', 240_000);
    await sleep(2000);
    const before = rssKb(pid);
    holder.send('hold');
    const got = await holder.next<{ ready: number; failed: number }>('ready', 600_000);
    if (got.failed > 0) throw new Error(`${o.label}: ${got.failed} of ${o.n} ${o.kind} connections failed to open`);
    // Waits answer nothing until the end: the server's own gauge says when it holds them all.
    if (o.kind === 'wait') await holding(base, got.ready, 120_000);
    await sleep(2000);
    const after = rssKb(pid);
    holder.send('release');
    const { early } = await holder.next<{ early: number }>('early', 60_000);
    if (early > 0) throw new Error(`${o.label}: ${early} of ${o.n} ${o.kind} connections ended before the release`);
    return round((after - before) / got.ready, 2);
  } finally {
    holder.proc.kill('SIGTERM');
    server.proc.kill('SIGTERM');
  }
}

export async function ready(base: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`${base} never became ready`);
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

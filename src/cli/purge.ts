import { type Command, InvalidArgumentError } from 'commander';
import { withDatabase } from './keys.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--older-than 30d` (API.md §10: a number and one of s, m, h, d; `0s` is everything terminal) in milliseconds. */
export function parseOlderThan(value: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value);
  const ms = m ? Number(m[1]) * (UNITS[m[2] ?? ''] ?? Number.NaN) : Number.NaN;
  if (!m || !Number.isFinite(ms) || ms > 8.64e15) {
    throw new InvalidArgumentError('expected a number and one of s, m, h, d, e.g. 30d, 12h, 90m or 0s');
  }
  return ms;
}

/** Purges above this many executions draw a progress bar (on a terminal). */
const BAR_FROM = 1000;
const BATCH = 500;

/**
 * `vigil purge --older-than DURATION [--dry-run] [--workflow W]` (API.md §10): what retention would delete at that
 * age, deleted now by the same domain function (trees whole, pinned and non-terminal executions kept), on the
 * server's database (as `vigil keys`: on PGlite it is refused while a server holds the data directory).
 */
export function registerPurgeCommand(program: Command): void {
  program
    .command('purge')
    .description(
      'Delete terminal executions completed longer ago than DURATION, with everything of theirs (trees whole; ' +
        'pinned and unfinished trees kept), in the database the server uses (DATABASE_URL, or PGlite at VIGIL_DATA_DIR)',
    )
    .requiredOption('--older-than <duration>', 'a number and s, m, h or d: 30d, 12h, 90m, 0s', parseOlderThan)
    .option('--dry-run', 'count what would be deleted; delete nothing')
    .option('--workflow <id>', "only trees whose root's workflowId is this")
    .action(async (opts: { olderThan: number; dryRun?: boolean; workflow?: string }) => {
      const [{ countDue, deleteDue }, { LineBar }] = await Promise.all([
        import('../domain/retention.js'),
        import('./bar.js'),
      ]);
      const rule = { cutoff: new Date(Date.now() - opts.olderThan), workflowId: opts.workflow };
      const text = await withDatabase(async ({ db }) => {
        const due = await countDue(db, rule);
        if (opts.dryRun) return `would delete ${due.executions} executions, ${due.events} events`;
        const out = process.stderr;
        const bar =
          out.isTTY && due.executions >= BAR_FROM
            ? new LineBar(out, 'purge', { percentage: 0, status: `0/${due.executions}`, step: 'executions' })
            : null;
        let done = 0;
        try {
          const total = await deleteDue(db, rule, {
            batch: BATCH,
            onBatch: (d) => {
              done += d.executions;
              const percentage = (100 * done) / Math.max(due.executions, done);
              bar?.update({ percentage, status: `${done}/${due.executions}`, step: 'executions' });
            },
          });
          return `${total.executions} executions, ${total.events} events`;
        } finally {
          bar?.stop();
        }
      });
      process.stdout.write(`${text}\n`);
    });
}

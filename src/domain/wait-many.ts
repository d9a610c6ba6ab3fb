import { and, desc, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { Executor } from '../db/client.js';
import { executions } from '../db/schema.js';
import { type Principal, requireScope } from './access.js';
import { VigilError } from './errors.js';
import { filterConditions, matchesFilter } from './filters.js';
import {
  DEFAULT_WAIT_TIMEOUT_SECONDS,
  type ExecutionFilter,
  executionFilterInput,
  parse,
  uuidSchema,
  waitTimeoutSeconds,
} from './inputs.js';
import { ownedBy, tenantOf } from './tenant.js';
import { type Execution, isTerminal } from './types.js';

/** How many executions one `waitForExecutions` may name or match (API.md §9). */
export const MAX_WAIT_TARGETS = 1000;
export const WAIT_MODES = ['ALL', 'ANY'] as const;
export type WaitMode = (typeof WAIT_MODES)[number];

/**
 * `waitForExecutions`' arguments (API.md §9), shared by GraphQL and REST. Everything here is checked before any
 * execution is looked up: 1,001 ids are refused whatever they name.
 */
export const waitManyInput = z
  .strictObject({
    ids: z
      .array(
        z
          .string()
          .max(100)
          .transform((v) => v.toLowerCase()),
      )
      .min(1)
      .max(MAX_WAIT_TARGETS)
      .superRefine((ids, ctx) => {
        const seen = new Set<string>();
        ids.forEach((id, i) => {
          if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate id ${id}` });
          seen.add(id);
        });
      })
      .nullish(),
    filter: executionFilterInput.nullish(),
    mode: z.enum(WAIT_MODES).nullish(),
    expectedCount: z.int().min(1).max(MAX_WAIT_TARGETS).nullish(),
    timeout: waitTimeoutSeconds.nullish(),
  })
  .superRefine((v, ctx) => {
    if ((v.ids == null) === (v.filter == null))
      ctx.addIssue({
        code: 'custom',
        path: [v.ids == null ? 'ids' : 'filter'],
        message: 'give exactly one of ids and filter',
      });
  });

/** What to wait for: either fixed ids or the executions matching a filter at each moment. */
export interface WaitPlan {
  ids: readonly string[] | null;
  filter: ExecutionFilter | null;
  mode: WaitMode;
  /** ALL with a filter: how many must match before every one being terminal counts (1 by default). */
  expectedCount: number;
  timeoutSeconds: number;
}

/** Parses the arguments (VALIDATION_FAILED naming every bad one) into a plan. */
export function planWait(raw: unknown): WaitPlan {
  const v = parse(waitManyInput, raw);
  return {
    ids: v.ids ?? null,
    filter: v.ids ? null : (v.filter ?? null),
    mode: v.mode ?? 'ALL',
    expectedCount: v.expectedCount ?? 1,
    timeoutSeconds: v.timeout ?? DEFAULT_WAIT_TIMEOUT_SECONDS,
  };
}

/** More executions match a wait's filter than one wait may hold. */
export function tooManyMatches(): VigilError {
  return new VigilError('VALIDATION_FAILED', `More than ${MAX_WAIT_TARGETS} executions match the filter; narrow it`, {
    issues: [{ loc: ['filter'], msg: `matches more than ${MAX_WAIT_TARGETS} executions`, type: 'value_error' }],
  });
}

/**
 * The plan's executions now, in one read in the caller's tenant: every id (else EXECUTION_NOT_FOUND, naming the
 * first unknown one), or what matches the filter (more than 1,000 is VALIDATION_FAILED).
 */
export async function readWaitTargets(db: Executor, principal: Principal, plan: WaitPlan): Promise<Execution[]> {
  requireScope(principal, 'executions:read');
  if (plan.ids) {
    const valid = plan.ids.filter((id) => uuidSchema.safeParse(id).success);
    // By the primary key alone, the tenant checked on the rows (`ownedBy`).
    const read = (
      valid.length ? await db.select().from(executions).where(inArray(executions.id, valid)) : []
    ) as Execution[];
    const rows = read.filter((row) => ownedBy(principal, row));
    if (rows.length < plan.ids.length) {
      const found = new Set(rows.map((r) => r.id));
      const missing = plan.ids.find((id) => !found.has(id));
      throw new VigilError('EXECUTION_NOT_FOUND', `Execution ${missing} not found`);
    }
    return rows;
  }
  const rows = (await db
    .select()
    .from(executions)
    .where(and(tenantOf(principal), ...filterConditions(plan.filter)))
    .orderBy(desc(executions.createdAt), desc(executions.id))
    .limit(MAX_WAIT_TARGETS + 1)) as Execution[];
  if (rows.length > MAX_WAIT_TARGETS) throw tooManyMatches();
  return rows;
}

/**
 * The executions of one wait and whether it is over, updated one execution at a time (each a state the change feed
 * read after a commit). Counting terminal members as they change keeps each update O(1), so a wait on 1,000 ids
 * released by 1,000 commits costs 1,000 small steps, not a million.
 */
export class WaitSet {
  private readonly members = new Map<string, Execution>();
  /** The ids as a set when there are many; a few are looked up in `plan.ids` (a held wait on ten keeps no set). */
  private readonly idSet: ReadonlySet<string> | null;
  private terminal = 0;

  constructor(readonly plan: WaitPlan) {
    this.idSet = plan.ids && plan.ids.length > 32 ? new Set(plan.ids) : null;
  }

  /** Takes an execution's state unless an older one than held; with a filter it joins or leaves as it matches. */
  update(e: Execution): void {
    const held = this.members.get(e.id);
    if (held && held.lastSequence > e.lastSequence) return;
    const { ids, filter } = this.plan;
    const belongs = this.idSet ? this.idSet.has(e.id) : ids ? ids.includes(e.id) : matchesFilter(e, filter);
    if (!held && !belongs) return;
    if (held && isTerminal(held.status)) this.terminal -= 1;
    if (!belongs) {
      this.members.delete(e.id);
      return;
    }
    this.members.set(e.id, e);
    if (isTerminal(e.status)) this.terminal += 1;
  }

  get(id: string): Execution | undefined {
    return this.members.get(id);
  }

  get size(): number {
    return this.members.size;
  }

  get finished(): number {
    return this.terminal;
  }

  /** More executions match the filter than one wait may hold (VALIDATION_FAILED). */
  get overLimit(): boolean {
    return this.members.size > MAX_WAIT_TARGETS;
  }

  get done(): boolean {
    if (this.plan.mode === 'ANY') return this.terminal > 0;
    if (this.plan.ids) return this.terminal === this.plan.ids.length;
    return this.members.size >= this.plan.expectedCount && this.terminal === this.members.size;
  }

  /** In the order of `ids`, or newest first (createdAt desc, id desc) for a filter. */
  executions(): Execution[] {
    if (this.plan.ids) return this.plan.ids.flatMap((id) => this.members.get(id) ?? []);
    return [...this.members.values()].sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    );
  }

  /** What the answer's `message` says: how it ended, or where it stood when it did not. */
  message(why: string | null): string {
    const counts = `${this.terminal} of ${this.members.size} finished`;
    if (why === null) {
      if (this.plan.mode === 'ANY') {
        const first = this.executions().find((e) => isTerminal(e.status));
        return `Execution ${first?.id} finished with status ${first?.status} (${counts})`;
      }
      return `All ${this.members.size} executions finished`;
    }
    const expected =
      this.plan.filter && this.plan.mode === 'ALL' && this.members.size < this.plan.expectedCount
        ? `; ${this.plan.expectedCount} expected`
        : '';
    return `${why}; ${counts}${expected}`;
  }
}

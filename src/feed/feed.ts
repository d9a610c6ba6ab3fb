import { and, eq, gte, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { executions } from '../db/schema.js';
import type { Principal } from '../domain/access.js';
import { EVENT_PAGE, readEvents } from '../domain/events.js';
import { loadExecutions } from '../domain/executions.js';
import { matchesFilter } from '../domain/filters.js';
import type { ExecutionFilter } from '../domain/inputs.js';
import { ownedBy } from '../domain/tenant.js';
import type { Change, ChangeSink, Execution, ExecutionEvent } from '../domain/types.js';
import { Slots } from './limits.js';
import type { FeedTransport } from './transport.js';

/** Something held open on one execution: a stream subscriber wants its events, a waiter its state. */
export interface ExecutionListener {
  events?(events: readonly ExecutionEvent[]): void;
  execution?(execution: Execution): void;
  /** The feed is shutting down: answer now and let go. */
  closed?(): void;
}

/** An `executionUpdated` subscriber: every change of a matching execution in its tenant. */
export interface UpdateListener {
  principal: Principal;
  filter: ExecutionFilter | null;
  execution(execution: Execution): void;
  closed?(): void;
}

interface Hub {
  id: string;
  listeners: Set<ExecutionListener>;
  eventListeners: number;
  /** Every event up to here has been dispatched (or was committed before any listener attached). */
  loadedThrough: number;
  /** The newest execution row this hub read, for listeners that attach behind it. */
  latest: Execution | null;
  reading: boolean;
  again: boolean;
}

/** Told of every batch of committed changes, local or remote (and on each re-check), and of shutdown. */
export interface FeedObserver {
  changed(): void;
  closed(): void;
}

export interface FeedLogger {
  warn(obj: object, msg: string): void;
}

export interface FeedStats {
  notifications: number;
  /** Of which from other instances. */
  remote: number;
  reads: number;
  /**
   * Local commits handed to listeners in process (waits answered, frames written in the committing turn): a
   * mutation whose commit moved it lets those answers out before its own (the fast path).
   */
  woken: number;
}

/**
 * The change feed of one process. Committed changes (local, or remote through the transport) wake at most one read
 * per execution however many listeners it has: the hub reads the execution row and the new events once, and hands
 * the same objects to every waiter and subscriber. A lost notification costs nothing but time: on (re)listen and at
 * a coarse interval every hub re-checks its execution's lastSequence.
 */
export class ChangeFeed implements ChangeSink {
  private readonly hubs = new Map<string, Hub>();
  private readonly updateListeners = new Set<UpdateListener>();
  /** Executions being read for update listeners alone (no hub). */
  private readonly transient = new Map<string, { again: boolean }>();
  /** Hubs to pull at the end of this turn (`schedule`). */
  private readonly scheduled = new Set<Hub>();
  private readonly observers = new Set<FeedObserver>();
  private disconnectedAt: Date | null = null;
  private recheckTimer: NodeJS.Timeout | null = null;
  private closed = false;
  readonly stats: FeedStats = { notifications: 0, remote: 0, reads: 0, woken: 0 };
  /** Control notices from other processes (e.g. a revoked key); set by the composition root. */
  onControl: (message: string) => void = () => {};

  constructor(
    private readonly db: Db,
    readonly transport: FeedTransport,
    /** Also the change log's tail's (`changes.ts`). */
    readonly log: FeedLogger,
    private readonly recheckIntervalMs = 30_000,
    /** Open waits and streams against this server's capacity (`limits.ts` claims them). */
    readonly slots = new Slots(),
  ) {}

  async start(): Promise<void> {
    await this.transport.start({
      onRemote: (changes) => {
        this.stats.remote += changes.length;
        this.receive(changes);
      },
      onListen: () => void this.catchUp(),
      onDisconnect: (err) => {
        this.disconnectedAt ??= new Date();
        this.log.warn({ err }, 'change feed listener lost; reconnecting');
      },
      onError: (err) => this.log.warn({ err }, 'change feed notify failed; will retry'),
      onControl: (message) => this.onControl(message),
    });
    this.recheckTimer = setInterval(() => void this.recheck(), this.recheckIntervalMs);
    this.recheckTimer.unref();
  }

  get listening(): boolean {
    return this.transport.listening && !this.closed;
  }

  get openListeners(): { executions: number; updates: number } {
    let n = 0;
    for (const hub of this.hubs.values()) n += hub.listeners.size;
    return { executions: n, updates: this.updateListeners.size };
  }

  /**
   * ChangeSink: called after commit by the domain core. Dispatches locally at once, then tells other instances (the
   * transport sends its NOTIFY after this turn, behind what the local dispatch writes).
   */
  changed(changes: readonly Change[]): void {
    this.receive(changes);
    this.transport.publish(changes);
  }

  private receive(changes: readonly Change[]): void {
    this.stats.notifications += changes.length;
    for (const change of changes) {
      const { executionId, sequence, committed } = change;
      const hub = this.hubs.get(executionId);
      if (hub) {
        if (committed && this.deliver(hub, sequence, committed)) continue;
        if (sequence === 0 || sequence > hub.loadedThrough) this.schedule(hub);
      } else if (this.updateListeners.size > 0) {
        // A read in flight for these listeners could answer an older row after this one: it reads again instead.
        if (committed && !this.transient.has(executionId)) {
          this.stats.woken += 1;
          this.toUpdateListeners(committed.execution);
        } else void this.pullTransient(executionId);
      }
    }
    // After the hubs: an observer's read (the change log's tail) does not go out before what this wakes at once.
    for (const o of this.observers) o.changed();
  }

  /**
   * The in-process path of a local commit: hands the writer's row and events to the hub's listeners at once, with no
   * read back, when they are exactly what follows what the hub has dispatched (so order and completeness hold as if it
   * had read them). Anything else — a read in flight (it could answer an older row after this one), a hole before these
   * events (another commit not seen yet, e.g. from another instance), a sequence-0 change — is left to `pull`, which
   * reads what is committed. Returns whether it delivered.
   */
  private deliver(hub: Hub, sequence: number, committed: NonNullable<Change['committed']>): boolean {
    const { execution, events } = committed;
    if (sequence > 0 && sequence <= hub.loadedThrough) return true; // dispatched already (by a read that saw it)
    if (hub.reading || sequence === 0 || execution.lastSequence !== sequence) return false;
    if (events.length !== sequence - hub.loadedThrough || events[0]?.sequence !== hub.loadedThrough + 1) return false;
    hub.latest = execution;
    hub.loadedThrough = sequence;
    this.stats.woken += 1;
    if (hub.eventListeners > 0) for (const l of [...hub.listeners]) l.events?.(events);
    for (const l of [...hub.listeners]) l.execution?.(execution);
    this.toUpdateListeners(execution);
    return true;
  }

  /**
   * Pulls a hub soon: the hubs scheduled in one turn (one commit's changes, or the ids of one wait attaching) that
   * only hold waiters are read together, in one set read, so a commit that ends 1,000 executions costs one read per
   * process, not 1,000. A hub with stream subscribers, or already reading, is pulled alone (it needs its events).
   */
  private schedule(hub: Hub): void {
    if (hub.reading || hub.eventListeners > 0) return void this.pull(hub);
    this.scheduled.add(hub);
    if (this.scheduled.size > 1) return;
    queueMicrotask(() => {
      const hubs = [...this.scheduled];
      this.scheduled.clear();
      if (hubs.length === 1) void this.pull(hubs[0] as Hub);
      else for (let i = 0; i < hubs.length; i += 1000) void this.pullMany(hubs.slice(i, i + 1000));
    });
  }

  /** One set read of several waiter-only hubs' rows, handed to their listeners as `pull` would. */
  private async pullMany(hubs: Hub[]): Promise<void> {
    const reading = hubs.filter((h) => !h.reading);
    for (const hub of reading) {
      hub.reading = true;
      hub.again = false;
    }
    const repull: Hub[] = hubs.filter((h) => !reading.includes(h));
    try {
      this.stats.reads += 1;
      const rows = await loadExecutions(
        this.db,
        reading.map((h) => h.id),
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const hub of reading) {
        const execution = byId.get(hub.id);
        // A stream subscriber that attached meanwhile needs the events too: the hub's own pull reads them.
        if (!execution || hub.eventListeners > 0) {
          if (execution) repull.push(hub);
          continue;
        }
        if (!hub.latest || execution.lastSequence >= hub.latest.lastSequence) hub.latest = execution;
        if (hub.loadedThrough < execution.lastSequence) hub.loadedThrough = execution.lastSequence;
        for (const l of [...hub.listeners]) l.execution?.(execution);
        this.toUpdateListeners(execution);
        if (hub.again) repull.push(hub);
      }
    } catch (err) {
      this.log.warn({ err, executions: hubs.length }, 'change feed read failed; the periodic re-check will retry');
    } finally {
      for (const hub of reading) hub.reading = false;
      for (const hub of repull) if (!this.closed) void this.pull(hub);
    }
  }

  /**
   * Attaches a listener to an execution the caller has already read (and so checked the tenant of) at
   * `knownSequence`. A new hub starts there and reads once at once, so a commit between the caller's read and this
   * attach is not missed; an existing hub that has already dispatched something newer hands its latest row to the
   * listener (after attach returns, so the caller holds its detach). Streams replay from the table besides.
   */
  attach(executionId: string, listener: ExecutionListener, knownSequence: number): () => void {
    const existing = this.hubs.get(executionId);
    const hub: Hub = existing ?? {
      id: executionId,
      listeners: new Set(),
      eventListeners: 0,
      loadedThrough: knownSequence,
      latest: null,
      reading: false,
      again: false,
    };
    if (!existing) this.hubs.set(executionId, hub);
    hub.listeners.add(listener);
    if (listener.events) hub.eventListeners += 1;
    if (!existing) this.schedule(hub);
    else if (hub.latest && hub.latest.lastSequence > knownSequence) {
      const latest = hub.latest;
      queueMicrotask(() => {
        if (hub.listeners.has(listener)) listener.execution?.(latest);
      });
    }
    return () => {
      if (!hub.listeners.delete(listener)) return;
      if (listener.events) hub.eventListeners -= 1;
      if (hub.listeners.size === 0 && this.hubs.get(hub.id) === hub) this.hubs.delete(hub.id);
    };
  }

  /**
   * What the closure `attach` returns does, by execution id: for a listener attached to many executions (a wait on
   * many ids), which then need not hold a closure for each.
   */
  detach(executionId: string, listener: ExecutionListener): void {
    const hub = this.hubs.get(executionId);
    if (!hub?.listeners.delete(listener)) return;
    if (listener.events) hub.eventListeners -= 1;
    if (hub.listeners.size === 0) this.hubs.delete(executionId);
  }

  /** The newest row the hub of this execution has read, if any (shared by everything attached to it). */
  latestOf(executionId: string): Execution | null {
    return this.hubs.get(executionId)?.latest ?? null;
  }

  /** Current position of the hub, if any: every event up to it has been dispatched to attached listeners. */
  position(executionId: string): number | undefined {
    return this.hubs.get(executionId)?.loadedThrough;
  }

  /** Something that reads its own way on every commit (the change log's tail, `changes.ts`). */
  observe(observer: FeedObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  subscribeUpdates(listener: UpdateListener): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  /** Reads the execution (and its new events when someone streams them) once, then hands them to every listener. */
  private async pull(hub: Hub): Promise<void> {
    if (hub.reading) {
      hub.again = true;
      return;
    }
    hub.reading = true;
    try {
      do {
        hub.again = false;
        this.stats.reads += 1;
        // The row and the first page of new events are read at once (two connections, one round trip of waiting);
        // events committed after the row was read are simply dispatched early.
        const from = hub.loadedThrough;
        const [[execution], first] = await Promise.all([
          loadExecutions(this.db, [hub.id]),
          hub.eventListeners > 0 ? readEvents(this.db, hub.id, from, EVENT_PAGE) : undefined,
        ]);
        if (!execution) break;
        if (!hub.latest || execution.lastSequence >= hub.latest.lastSequence) hub.latest = execution;
        let page = first;
        while (hub.eventListeners > 0 && hub.loadedThrough < execution.lastSequence) {
          // The first page, read beside the row (on another connection), while nothing moved past its start.
          const prefetched = hub.loadedThrough === from ? page : undefined;
          page = undefined;
          const events = prefetched ?? (await readEvents(this.db, hub.id, hub.loadedThrough, EVENT_PAGE));
          const last = events.at(-1);
          // Its snapshot may predate a commit the row's shows: an empty one is read again (after the row) rather than
          // those events marked dispatched, which they never were.
          if (!last && prefetched) continue;
          if (!last) break;
          hub.loadedThrough = last.sequence;
          for (const l of [...hub.listeners]) l.events?.(events);
        }
        if (hub.loadedThrough < execution.lastSequence) hub.loadedThrough = execution.lastSequence;
        for (const l of [...hub.listeners]) l.execution?.(execution);
        this.toUpdateListeners(execution);
        // Events newer than the row were dispatched (committed between the two reads): the row is read again, so what
        // is attached sees it as of the last event. Their notice finds them dispatched already and pulls nothing, and
        // neither does the re-check: without this read, a waiter would miss an end it was shown only as an event.
        if (hub.loadedThrough > execution.lastSequence) hub.again = true;
      } while (hub.again && !this.closed);
    } catch (err) {
      this.log.warn({ err, executionId: hub.id }, 'change feed read failed; the periodic re-check will retry');
    } finally {
      hub.reading = false;
    }
  }

  private async pullTransient(id: string): Promise<void> {
    const entry = this.transient.get(id);
    if (entry) {
      entry.again = true;
      return;
    }
    const state = { again: false };
    this.transient.set(id, state);
    try {
      do {
        state.again = false;
        this.stats.reads += 1;
        const [execution] = await loadExecutions(this.db, [id]);
        if (execution) this.toUpdateListeners(execution);
      } while (state.again && !this.closed);
    } catch (err) {
      this.log.warn({ err, executionId: id }, 'change feed read failed');
    } finally {
      this.transient.delete(id);
    }
  }

  private toUpdateListeners(execution: Execution): void {
    for (const l of this.updateListeners) {
      if (ownedBy(l.principal, execution) && matchesFilter(execution, l.filter)) l.execution(execution);
    }
  }

  /** After a (re)listen: anything committed while nobody listened is read now. */
  private async catchUp(): Promise<void> {
    const since = this.disconnectedAt;
    this.disconnectedAt = null;
    await this.recheck();
    if (!since || this.updateListeners.size === 0) return;
    const from = new Date(since.getTime() - 2000);
    const tenants = new Map<string, Principal>();
    for (const l of this.updateListeners)
      tenants.set(`${l.principal.organizationId}/${l.principal.environment}`, l.principal);
    for (const p of tenants.values()) {
      try {
        const rows = (await this.db
          .select()
          .from(executions)
          .where(
            and(
              eq(executions.organizationId, p.organizationId),
              eq(executions.environment, p.environment),
              gte(executions.updatedAt, from),
            ),
          )
          .limit(1000)) as Execution[];
        for (const e of rows) this.toUpdateListeners(e);
      } catch (err) {
        this.log.warn({ err }, 'change feed catch-up failed');
      }
    }
  }

  /** Compares every hub with its execution's lastSequence in a few set reads, and pulls the ones behind. */
  async recheck(): Promise<void> {
    for (const o of this.observers) o.changed();
    const ids = [...this.hubs.keys()];
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      try {
        const rows = await this.db
          .select({ id: executions.id, lastSequence: executions.lastSequence })
          .from(executions)
          .where(inArray(executions.id, chunk));
        for (const r of rows) {
          const hub = this.hubs.get(r.id);
          if (hub && r.lastSequence > hub.loadedThrough) void this.pull(hub);
        }
      } catch (err) {
        this.log.warn({ err }, 'change feed re-check failed');
      }
    }
  }

  /** Shutdown: every waiter answers and every stream ends; nothing new attaches. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    for (const hub of this.hubs.values()) for (const l of [...hub.listeners]) l.closed?.();
    for (const l of [...this.updateListeners]) l.closed?.();
    for (const o of [...this.observers]) o.closed();
    await this.transport.stop();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

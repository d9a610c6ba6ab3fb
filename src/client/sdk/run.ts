import { VigilApiError } from '../client.js';
import { type CreateExecution, ExecutionStatus, RecordEvents } from './documents.js';
import type { ResultOf, VariablesOf } from './graphql.js';
import { backoff, isTransient, sleep, type Transport } from './transport.js';

export type Execution = ResultOf<typeof CreateExecution>['createExecution'];
export type ExecutionEventInput = VariablesOf<typeof RecordEvents>['events'][number];
type StepInput = NonNullable<ExecutionEventInput['step']>;
type MessageInput = NonNullable<ExecutionEventInput['message']>;
type LogLevel = NonNullable<NonNullable<ExecutionEventInput['log']>['level']>;
type ErrorInput = NonNullable<NonNullable<ExecutionEventInput['statusChanged']>['error']>;

/** Reports go out within this long of the first one queued… */
export const FLUSH_MS = 100;
/** …or as soon as this many are queued. */
export const FLUSH_EVENTS = 100;

/** Why a run's reports stopped: its execution ended without this worker (cancelled, timed out, marked). */
export class ExecutionStoppedError extends VigilApiError {
  override name = 'ExecutionStoppedError';
  constructor(
    readonly executionId: string,
    readonly executionStatus: string,
  ) {
    super('INVALID_STATUS_TRANSITION', `Execution ${executionId} is ${executionStatus}; its reports stopped`);
  }
}

interface Queued {
  event: ExecutionEventInput;
  resolve(): void;
  reject(err: unknown): void;
}

export interface RunOptions {
  /** Give up a batch after this long of network failures (ms); default 30 s. */
  retryForMs?: number;
}

/**
 * A worker's handle on one execution. Reports are queued and sent in order, in batches (within FLUSH_MS of the first
 * queued, or at FLUSH_EVENTS); each batch carries an idempotency key, so a batch sent again after a dropped
 * connection is applied once. Each report's promise resolves once its batch is accepted (it need not be awaited: a
 * failure also surfaces from `flush`, `complete` and `fail`). With `heartbeatTimeoutSeconds`, an empty batch goes out
 * whenever nothing else did for a third of it. When a report is refused because the execution ended elsewhere
 * (cancelled, timed out), `signal` aborts with an {@link ExecutionStoppedError} and every later report is refused.
 */
export class Run {
  readonly id: string;
  readonly signal: AbortSignal;
  /** The execution as created (or replayed). */
  readonly execution: Execution;
  private readonly abort = new AbortController();
  private queue: Queued[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private sending: Promise<void> | null = null;
  private stopped: unknown = null;
  /** A batch's failure, until `flush` reports it. */
  private failure: unknown = null;
  private lastSent = Date.now();
  private ended = false;

  constructor(
    private readonly transport: Transport,
    execution: Execution,
    private readonly options: RunOptions = {},
  ) {
    this.id = execution.id;
    this.execution = execution;
    this.signal = this.abort.signal;
    const seconds = execution.heartbeatTimeoutSeconds;
    if (seconds) {
      const every = Math.max(200, (seconds * 1000) / 3);
      this.heartbeat = setInterval(() => {
        if (!this.sending && this.queue.length === 0 && Date.now() - this.lastSent >= every * 0.9) this.pump(true);
      }, every / 2);
      unref(this.heartbeat);
    }
  }

  progress(percentage: number, step?: string): Promise<void> {
    return this.report({ progress: { percentage, step: step ?? null } });
  }
  step(step: StepInput): Promise<void> {
    return this.report({ step });
  }
  message(message: MessageInput): Promise<void> {
    return this.report({ message });
  }
  log(text: string, options: { stream?: string; level?: LogLevel } = {}): Promise<void> {
    return this.report({ log: { text, stream: options.stream ?? 'stdout', level: options.level ?? null } });
  }
  tags(change: { set?: Record<string, string> | { key: string; value: string }[]; remove?: string[] }): Promise<void> {
    const set = Array.isArray(change.set)
      ? change.set
      : Object.entries(change.set ?? {}).map(([key, value]) => ({ key, value }));
    return this.report({ tags: { set, remove: change.remove ?? [] } });
  }
  /** Any event (API.md §2 `ExecutionEventInput`), queued like the others. */
  report(event: ExecutionEventInput): Promise<void> {
    if (this.stopped) return handled(Promise.reject(this.stopped));
    const done = new Promise<void>((resolve, reject) => this.queue.push({ event, resolve, reject }));
    if (this.queue.length >= FLUSH_EVENTS) this.pump();
    else this.timer ??= setTimeout(() => this.pump(), FLUSH_MS);
    return handled(done);
  }

  /** Ends the execution COMPLETED (after everything queued before), and stops the heartbeats. */
  async complete(output?: unknown): Promise<void> {
    const done = this.report({ statusChanged: { to: 'COMPLETED', output } });
    await this.flush();
    await done;
    this.end();
  }
  /** Ends the execution FAILED with the error (an Error's name and message, or a Vigil error object). */
  async fail(error: Error | ErrorInput): Promise<void> {
    const e: ErrorInput =
      error instanceof Error ? { code: error.name || 'Error', message: error.message || String(error) } : error;
    const done = this.report({ statusChanged: { to: 'FAILED', error: e } });
    await this.flush();
    await done;
    this.end();
  }

  /** Sends everything queued now and waits for it; throws when the run was stopped or a batch failed for good. */
  async flush(): Promise<void> {
    for (;;) {
      this.pump();
      if (!this.sending) break;
      await this.sending;
    }
    if (this.stopped) throw this.stopped;
    const failure = this.failure;
    this.failure = null;
    if (failure) throw failure;
  }

  /** Stops the heartbeats and the timer (the execution is left as it is). */
  end(): void {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = null;
    this.heartbeat = null;
  }

  private pump(heartbeat = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.sending || this.stopped || (this.queue.length === 0 && !heartbeat)) return;
    this.sending = this.sendAll(heartbeat).finally(() => {
      this.sending = null;
      if (this.queue.length > 0) this.pump();
    });
  }

  private async sendAll(heartbeat: boolean): Promise<void> {
    do {
      const batch = this.queue.splice(0, FLUSH_EVENTS);
      try {
        await this.send(batch.map((q) => q.event));
        for (const q of batch) q.resolve();
      } catch (err) {
        const stop = await this.stoppedBy(err);
        for (const q of batch) q.reject(stop ?? err);
        if (stop) return this.stop(stop);
        this.failure ??= err;
      }
    } while (this.queue.length > 0 && !heartbeat);
  }

  /** One batch under one key, sent again after network failures until accepted or `retryForMs` passes. */
  private async send(events: ExecutionEventInput[]): Promise<void> {
    const key = events.length > 0 ? crypto.randomUUID() : null;
    const until = Date.now() + (this.options.retryForMs ?? 30_000);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.transport.request(RecordEvents, { id: this.id, events, key });
        this.lastSent = Date.now();
        return;
      } catch (err) {
        if (!isTransient(err) || Date.now() >= until || this.ended) throw err;
        await sleep(backoff(attempt));
      }
    }
  }

  /** A refusal because the execution ended elsewhere, as the error that stops the run; null for any other error. */
  private async stoppedBy(err: unknown): Promise<ExecutionStoppedError | null> {
    if (!(err instanceof VigilApiError) || err.code !== 'INVALID_STATUS_TRANSITION') return null;
    try {
      const { execution } = await this.transport.retrying(ExecutionStatus, { id: this.id }, { retryForMs: 5000 });
      const status = execution?.status;
      if (status && ['CANCELLED', 'FAILED', 'COMPLETED', 'TIMED_OUT'].includes(status)) {
        return new ExecutionStoppedError(this.id, status);
      }
    } catch {
      // the refusal itself still stands
    }
    return null;
  }

  private stop(reason: ExecutionStoppedError): void {
    this.stopped = reason;
    for (const q of this.queue.splice(0)) q.reject(reason);
    this.end();
    this.abort.abort(reason);
  }
}

/** Marks a promise as handled, so a report nobody awaits never becomes an unhandled rejection; awaiting still throws. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}

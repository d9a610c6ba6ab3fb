import postgres from 'postgres';
import type { Notifier } from '../db/client.js';
import type { Change } from '../domain/types.js';

/** The one channel every instance listens on. Lower case: PGlite folds LISTEN names (STACK.md §3). */
export const CHANNEL = 'vigil_changes';
/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7900;

export interface TransportHandlers {
  /** Changes made by other instances. */
  onRemote(changes: Change[]): void;
  /** The listener is (again) listening; notifications may have been missed while it was not. */
  onListen(): void;
  onDisconnect(error: unknown): void;
  onError(error: unknown): void;
  /** A control notice (`! <text>`), e.g. `revoke <keyId>` from `vigil keys revoke`. */
  onControl(message: string): void;
}

/** How changes cross process boundaries. */
export interface FeedTransport {
  start(handlers: TransportHandlers): Promise<void>;
  /** Tells other instances about committed changes; coalesces and never throws. */
  publish(changes: readonly Change[]): void;
  readonly listening: boolean;
  /** Reconnects of the listener since start. */
  readonly reconnects: number;
  stop(): Promise<void>;
}

/** PGlite: one process owns the database (the data-dir lock), so there is nobody to tell. */
export class LocalTransport implements FeedTransport {
  readonly listening = true;
  readonly reconnects = 0;
  async start(): Promise<void> {}
  publish(): void {}
  async stop(): Promise<void> {}
}

/**
 * PostgreSQL: one dedicated LISTEN connection per process, and NOTIFY sent after commit from the pool, coalesced so
 * that a burst of commits costs one NOTIFY (a NOTIFY inside every write transaction would serialize commits on the
 * cluster-wide notify lock). The listener reconnects by itself with backoff; `listening` is false meanwhile.
 */
export class PgTransport implements FeedTransport {
  listening = false;
  reconnects = 0;
  private readonly instance = Math.random().toString(36).slice(2, 10);
  private listener: postgres.Sql | null = null;
  private handlers: TransportHandlers | null = null;
  private pending = new Map<string, number>();
  private sending = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: postgres.Sql,
    private readonly url: string,
    private readonly pingIntervalMs = 5000,
  ) {}

  static fromNotifier(notifier: Notifier, url: string): PgTransport {
    if (notifier.kind !== 'postgres') throw new Error('PgTransport needs a PostgreSQL database');
    return new PgTransport(notifier.sql, url);
  }

  async start(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
    await this.connect();
    this.pingTimer = setInterval(() => void this.ping(), this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private async connect(): Promise<void> {
    const client = postgres(this.url, {
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      fetch_types: false,
      connect_timeout: 5,
      onnotice: () => {},
      connection: { application_name: 'vigil-listener' },
      onnotify: (_channel: string, payload: string) => this.receive(payload),
      onclose: () => this.lost(new Error('listener connection closed')),
    } as postgres.Options<Record<string, postgres.PostgresType>>);
    this.listener = client;
    try {
      await client.unsafe(`listen ${CHANNEL}`);
    } catch (err) {
      this.lost(err);
      return;
    }
    if (this.stopped || this.listener !== client) return;
    this.listening = true;
    this.handlers?.onListen();
  }

  private lost(error: unknown): void {
    const client = this.listener;
    if (!client || this.stopped) return;
    this.listener = null;
    const wasListening = this.listening;
    this.listening = false;
    void client.end({ timeout: 0 }).catch(() => {});
    if (wasListening) this.handlers?.onDisconnect(error);
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.reconnects += 1;
      void this.connect();
    }, 250);
    this.retryTimer.unref();
  }

  /** A dropped TCP connection may not close at once; a ping that fails within its bound forces the reconnect. */
  private async ping(): Promise<void> {
    const client = this.listener;
    if (!client || !this.listening) return;
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('listener ping timed out')), 3000).unref(),
    );
    try {
      await Promise.race([client`select 1`, timeout]);
    } catch (err) {
      if (this.listener === client) this.lost(err);
    }
  }

  private receive(payload: string): void {
    if (payload.startsWith('!')) {
      this.handlers?.onControl(payload.slice(1).trim());
      return;
    }
    const space = payload.indexOf(' ');
    if (space < 0 || payload.slice(0, space) === this.instance) return; // our own: already dispatched locally
    const changes: Change[] = [];
    for (const item of payload.slice(space + 1).split(',')) {
      const colon = item.indexOf(':');
      const sequence = Number(item.slice(colon + 1));
      if (colon > 0 && Number.isInteger(sequence)) changes.push({ executionId: item.slice(0, colon), sequence });
    }
    if (changes.length > 0) this.handlers?.onRemote(changes);
  }

  /**
   * Queues the changes for other instances. The NOTIFY goes out once this turn is over (`setImmediate`), so that what
   * the commit wakes in this process (waiters answered, frames written) reaches its sockets first.
   */
  publish(changes: readonly Change[]): void {
    for (const c of changes) {
      const seen = this.pending.get(c.executionId);
      if (seen === undefined || c.sequence > seen) this.pending.set(c.executionId, c.sequence);
    }
    if (this.sending) return;
    this.sending = true;
    setImmediate(() => void this.flush());
  }

  /** Sends everything pending in as few NOTIFYs as fit, then whatever arrived meanwhile. */
  private async flush(): Promise<void> {
    this.sending = true;
    try {
      while (this.pending.size > 0 && !this.stopped) {
        const batch = this.pending;
        this.pending = new Map();
        const payloads: string[] = [];
        let current = '';
        for (const [id, seq] of batch) {
          const item = `${id}:${seq}`;
          if (current && current.length + item.length + 1 > MAX_PAYLOAD) {
            payloads.push(current);
            current = '';
          }
          current = current ? `${current},${item}` : item;
        }
        if (current) payloads.push(current);
        try {
          await this
            .pool`select pg_notify(${CHANNEL}, ${this.instance} || ' ' || p) from unnest(${payloads}::text[]) as p`;
        } catch (err) {
          // Other instances catch up by their periodic re-check; keep the changes for the next try.
          for (const [id, seq] of batch) if (!this.pending.has(id)) this.pending.set(id, seq);
          this.handlers?.onError(err);
          await new Promise((r) => setTimeout(r, 500).unref());
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** Sends a control notice to every instance (this one included). */
  async control(message: string): Promise<void> {
    await this.pool`select pg_notify(${CHANNEL}, ${`! ${message}`})`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listening = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    const client = this.listener;
    this.listener = null;
    await client?.end({ timeout: 1 }).catch(() => {});
  }
}

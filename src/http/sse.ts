import type { ServerResponse } from 'node:http';
import { VigilError } from '../domain/errors.js';

/**
 * The one writer of every event stream Vigil writes itself: yoga's framing at POST /graphql, graphql-sse's
 * distinct-connections mode at POST /graphql/stream, and REST's seed 002. It owns the headers and framing of each
 * protocol, one heartbeat timer for all open streams (`VIGIL_SSE_HEARTBEAT_MS`), backpressure (a consumer that
 * leaves more than a bound of bytes unsent is ended with its protocol's error frame, never buffered without bound),
 * the client going away, and shutdown (every open stream ends with its end frame). What it writes is built by the
 * edges (GraphQL results, REST messages); the `/graphql` fallback to the libraries (lean path off,
 * single-connection mode, errors before a stream starts) is the only other writer.
 */

/**
 * yoga at /graphql, graphql-sse distinct mode at /graphql/stream, REST (seed 002), and `text`: the followed logs
 * endpoint's `text/plain` body, which is the log text alone (no comment, no frame; see `start`).
 */
export type SseProtocol = 'yoga' | 'graphql-sse' | 'rest' | 'text';

const HEADERS: Record<SseProtocol, Record<string, string>> = {
  yoga: {
    'content-type': 'text/event-stream',
    connection: 'keep-alive',
    'cache-control': 'no-cache',
    'content-encoding': 'none',
  },
  'graphql-sse': {
    connection: 'keep-alive',
    'cache-control': 'no-cache',
    'content-encoding': 'none',
    'content-type': 'text/event-stream; charset=utf-8',
  },
  rest: {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  },
  text: {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'x-accel-buffering': 'no',
  },
};

/** A comment: the first bytes of every stream (some browsers wait for a body before they report the headers) and the heartbeat. */
const PING = Buffer.from(':\n\n');
/** GraphQL's end frame (yoga and graphql-sse distinct mode alike); seed 002 just ends. */
export const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
const END_FRAME: Record<SseProtocol, Buffer | null> = {
  yoga: COMPLETE,
  'graphql-sse': COMPLETE,
  rest: null,
  text: null,
};

/** A GraphQL result (already serialized) as an `event: next` frame. */
export function nextFrame(json: string): Buffer {
  return Buffer.from(`event: next\ndata: ${json}\n\n`);
}

export interface SseMessage {
  event?: string;
  id?: string;
  data: string;
}

/** A message as `event:`, `data:` (one line per line of data, whatever its line breaks) and `id:` lines. */
export function messageFrame(message: SseMessage): Buffer {
  const lines: string[] = [];
  if (message.event) lines.push(`event: ${oneLine(message.event)}`);
  for (const line of message.data.split(/\r\n|\r|\n/)) lines.push(`data: ${line}`);
  if (message.id !== undefined) lines.push(`id: ${oneLine(message.id)}`);
  return Buffer.from(`${lines.join('\n')}\n\n`);
}

function oneLine(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error('an SSE event name or id must be one line');
  return value;
}

/**
 * A frame builder whose frames are built once per item: the feed hands every subscriber of an execution the same event
 * objects, so a live event's frame (and its chunk, `chunkOf`) is made once for all of them rather than once each. A
 * frame lives as long as its item does.
 */
export function sharedFrames<T extends object>(build: (item: T) => Buffer): (item: T) => Buffer {
  const built = new WeakMap<T, Buffer>();
  return (item) => {
    let frame = built.get(item);
    if (!frame) {
      frame = build(item);
      built.set(item, frame);
    }
    return frame;
  };
}

const CRLF = Buffer.from('\r\n');
const chunks = new WeakMap<Buffer, Buffer>();
/** A frame in HTTP/1.1 chunked framing, built once per frame and shared by every subscriber it goes to. */
function chunkOf(frame: Buffer): Buffer {
  let chunk = chunks.get(frame);
  if (!chunk) {
    chunk = Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`), frame, CRLF]);
    chunks.set(frame, chunk);
  }
  return chunk;
}

/**
 * Writes a frame. Once the headers are out and nothing waits in the response itself, a chunked response takes the
 * frame already framed straight to its socket: one write instead of node's four (size, CRLF, data, CRLF), which is
 * what a thousand subscribers of one execution cost per event.
 */
function writeFrame(res: ServerResponse, frame: Buffer): void {
  const socket = res.socket;
  const direct = res as unknown as { chunkedEncoding?: boolean; outputSize?: number };
  if (socket && res.headersSent && direct.chunkedEncoding === true && direct.outputSize === 0 && !socket.destroyed)
    socket.write(chunkOf(frame));
  else res.write(frame);
}

/** How long a stream ended for a slow consumer may take to drain its last bytes before its connection is cut. */
const DRAIN_GRACE_MS = 30_000;

export interface SseStream {
  /** Writes a frame. False once the stream has ended: closed, shut down, or over its bound (then ended with the error frame). */
  write(frame: Buffer): boolean;
  /** Ends the stream with its end frame (GraphQL: `event: complete`; seed 002: none). */
  end(): void;
  /** Ends the stream early: its error frame for `error`, then its end frame. */
  fail(error: VigilError): void;
  /**
   * A promise that settles once the consumer has read most of what it was sent (or the stream ended), when more
   * than half the bound waits unsent; null otherwise. For a replay to be paced by its reader.
   */
  pressure(): Promise<void> | null;
  /** What to cancel when the stream ends for any reason (the client went away, shutdown, backpressure); at once if it already has. */
  onEnd(cancel: () => void): void;
  readonly ended: boolean;
}

export interface SseOpenOptions {
  protocol: SseProtocol;
  /** The protocol's error frame with the contract's code (GraphQL: `event: next` with `{errors}`; REST: `event: error`). */
  errorFrame(error: VigilError): Buffer;
  /** Headers of the route besides the protocol's own. */
  headers?: Record<string, string>;
}

export interface SseWriterOptions {
  heartbeatMs: number;
  /** Bytes a consumer may leave unsent before its stream is ended (it re-attaches with its cursor). */
  maxUnsentBytes: number;
}

export type SseWriter = ReturnType<typeof createSseWriter>;

/**
 * Node keeps a response's header block for the response's whole life as it built it: a tree of some fifty joined
 * pieces (about 1.5 KB for a stream's headers). Converting it to a number once makes V8 flatten it in place into one
 * string of its length, and the pieces are freed.
 */
function flattenHeader(res: ServerResponse): void {
  const header = (res as unknown as { _header?: unknown })._header;
  if (typeof header === 'string') Number(header);
}

/** The stream of each open response, for the one `close` listener all of them share. */
const streams = new WeakMap<ServerResponse, Stream>();
function responseClosed(this: ServerResponse): void {
  streams.get(this)?.closed();
}

/**
 * One open stream: a single object per held connection (methods on the prototype, no closures per stream), as ten
 * thousand of them are held at once.
 */
class Stream implements SseStream {
  ended = false;
  private cancels: (() => void)[] | (() => void) | null = null;

  constructor(
    readonly res: ServerResponse,
    private readonly protocol: SseProtocol,
    private readonly errorFrame: (error: VigilError) => Buffer,
    private readonly writer: Writer,
  ) {}

  /** A text body (the followed logs) has no comment, no heartbeat and no error frame: the text alone. */
  get text(): boolean {
    return this.protocol === 'text';
  }

  write(frame: Buffer): boolean {
    if (this.ended) return false;
    const { res } = this;
    const max = this.writer.options.maxUnsentBytes;
    writeFrame(res, frame);
    // Frames go straight to the socket once the headers are out: what waits is in both.
    if (res.writableLength + (res.socket?.writableLength ?? 0) <= max) return true;
    this.fail(
      new VigilError(
        'SERVICE_UNAVAILABLE',
        `The consumer fell behind (over ${max} bytes unsent): re-attach after the last event received`,
        { retryAfter: 1 },
      ),
    );
    // Bounded: the response now only drains what it holds; a consumer that never reads is cut off.
    if (!res.writableFinished) {
      const cut = setTimeout(() => res.destroy(), DRAIN_GRACE_MS).unref();
      res.once('close', () => clearTimeout(cut));
    }
    return false;
  }

  pressure(): Promise<void> | null {
    const { res } = this;
    const socket = res.socket;
    const max = this.writer.options.maxUnsentBytes;
    if (this.ended || !socket || res.writableLength + socket.writableLength <= max / 2) return null;
    return new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      res.once('drain', done);
      res.once('close', done);
    });
  }

  end(): void {
    this.closeWith(null);
  }

  fail(error: VigilError): void {
    if (!this.text) this.closeWith(this.errorFrame(error));
    else {
      if (!this.ended) this.finish();
      this.res.destroy();
    }
  }

  onEnd(cancel: () => void): void {
    if (this.ended) {
      cancel();
      return;
    }
    const { cancels } = this;
    if (cancels === null) this.cancels = cancel;
    else if (typeof cancels === 'function') this.cancels = [cancels, cancel];
    else cancels.push(cancel);
  }

  /** The client went away. */
  closed(): void {
    if (!this.ended) this.finish();
  }

  private finish(): void {
    this.ended = true;
    this.writer.open.delete(this);
    streams.delete(this.res);
    const called = this.cancels;
    this.cancels = null;
    if (typeof called === 'function') called();
    else if (called) for (const cancel of called) cancel();
  }

  private closeWith(last: Buffer | null): void {
    if (this.ended) return;
    this.finish();
    const { res } = this;
    if (res.destroyed) return;
    if (last) writeFrame(res, last);
    const end = END_FRAME[this.protocol];
    if (end) writeFrame(res, end);
    res.end();
  }
}

interface Writer {
  options: SseWriterOptions;
  open: Set<Stream>;
}

/**
 * Heartbeats written per turn of the event loop. Each is a socket write (a system call, some 10–20 µs here): ten
 * thousand held streams pinged in one turn would hold back, by 100 ms or more, an event committed meanwhile and every
 * frame of its fan-out. Slices let those in between.
 */
const PINGS_PER_TURN = 256;

/** Pings the idle streams among the next slice of `pending`, then yields the turn until none is left. */
function pingSlice(pending: Iterator<Stream>): void {
  for (let i = 0; i < PINGS_PER_TURN; i++) {
    const next = pending.next();
    if (next.done) return;
    const stream = next.value;
    const { res } = stream;
    // Ended since the beat started, or with bytes still queued (not idle: the heartbeat would only add to them).
    if (stream.ended || stream.text || res.writableLength !== 0 || res.socket?.writableLength) continue;
    writeFrame(res, PING);
  }
  setImmediate(pingSlice, pending);
}

export function createSseWriter(options: SseWriterOptions) {
  const writer: Writer = { options, open: new Set() };
  const { open } = writer;
  // A copy of the open streams when the beat starts: a stream that opens meanwhile has just sent its first comment.
  const heartbeat = setInterval(() => {
    if (open.size > 0) pingSlice([...open].values());
  }, options.heartbeatMs);
  heartbeat.unref();

  /** Starts an event stream on a response: its headers and first comment now. */
  function start(res: ServerResponse, { protocol, errorFrame, headers: extraHeaders }: SseOpenOptions): SseStream {
    const stream = new Stream(res, protocol, errorFrame, writer);
    // The client may have gone while the stream was being prepared: its `close` is then already past.
    if (res.destroyed) {
      stream.ended = true;
      return stream;
    }
    streams.set(res, stream);
    res.on('close', responseClosed);
    res.writeHead(200, extraHeaders ? { ...HEADERS[protocol], ...extraHeaders } : HEADERS[protocol]);
    if (stream.text) {
      // TCP keep-alive probes at the heartbeat interval keep a text body open instead of comments.
      res.socket?.setKeepAlive(true, options.heartbeatMs);
      res.flushHeaders();
    } else res.write(PING);
    flattenHeader(res);
    open.add(stream);
    return stream;
  }

  return {
    start,
    /** Open streams (for tests and shutdown). */
    get size() {
      return open.size;
    },
    /** Shutdown: every open stream ends with its end frame (clients re-attach elsewhere with their cursor). */
    closeAll(): void {
      for (const stream of [...open]) stream.end();
    },
    stop(): void {
      clearInterval(heartbeat);
    },
  };
}

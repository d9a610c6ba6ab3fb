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

/** yoga at /graphql, graphql-sse distinct mode at /graphql/stream, REST (seed 002). */
export type SseProtocol = 'yoga' | 'graphql-sse' | 'rest';

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
};

/** A comment: the first bytes of every stream (some browsers wait for a body before they report the headers) and the heartbeat. */
const PING = Buffer.from(':\n\n');
/** GraphQL's end frame (yoga and graphql-sse distinct mode alike); seed 002 just ends. */
export const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
const END_FRAME: Record<SseProtocol, Buffer | null> = { yoga: COMPLETE, 'graphql-sse': COMPLETE, rest: null };

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
   * Resolves once the consumer has taken most of what was written (under half the bound unsent) or the stream has
   * ended: a replay paces itself on it instead of running into the bound.
   */
  drained(): Promise<void>;
  /** What to cancel when the stream ends for any reason (the client went away, shutdown, backpressure); at once if it already has. */
  onEnd(cancel: () => void): void;
  readonly ended: boolean;
}

export interface SseOpenOptions {
  protocol: SseProtocol;
  /** The protocol's error frame with the contract's code (GraphQL: `event: next` with `{errors}`; REST: `event: error`). */
  errorFrame(error: VigilError): Buffer;
}

export interface SseWriterOptions {
  heartbeatMs: number;
  /** Bytes a consumer may leave unsent before its stream is ended (it re-attaches with its cursor). */
  maxUnsentBytes: number;
}

export type SseWriter = ReturnType<typeof createSseWriter>;

export function createSseWriter(options: SseWriterOptions) {
  const open = new Set<{ res: ServerResponse; stream: SseStream }>();
  const heartbeat = setInterval(() => {
    // A stream with bytes still queued is not idle: the heartbeat would only add to them.
    for (const { res } of open) if (res.writableLength === 0 && !res.socket?.writableLength) writeFrame(res, PING);
  }, options.heartbeatMs);
  heartbeat.unref();

  /** Starts an event stream on a response: its headers and first comment now. */
  function start(res: ServerResponse, { protocol, errorFrame }: SseOpenOptions): SseStream {
    let ended = false;
    let cancels: (() => void)[] = [];
    const entry = { res, stream: undefined as unknown as SseStream };
    const finish = () => {
      ended = true;
      open.delete(entry);
      const called = cancels;
      cancels = [];
      for (const cancel of called) cancel();
    };
    const closeWith = (last: Buffer[]) => {
      if (ended) return;
      finish();
      if (res.destroyed) return;
      const end = END_FRAME[protocol];
      const frames = end ? [...last, end] : last;
      for (const frame of frames) writeFrame(res, frame);
      res.end();
    };
    const stream: SseStream = {
      get ended() {
        return ended;
      },
      write(frame) {
        if (ended) return false;
        writeFrame(res, frame);
        // Frames go straight to the socket once the headers are out: what waits is in both.
        if (res.writableLength + (res.socket?.writableLength ?? 0) <= options.maxUnsentBytes) return true;
        stream.fail(
          new VigilError(
            'SERVICE_UNAVAILABLE',
            `The consumer fell behind (over ${options.maxUnsentBytes} bytes unsent): re-attach after the last event received`,
            { retryAfter: 1 },
          ),
        );
        // Bounded: the response now only drains what it holds; a consumer that never reads is cut off.
        if (!res.writableFinished) {
          const cut = setTimeout(() => res.destroy(), DRAIN_GRACE_MS).unref();
          res.once('close', () => clearTimeout(cut));
        }
        return false;
      },
      end: () => closeWith([]),
      fail: (error) => closeWith([errorFrame(error)]),
      drained() {
        const unsent = () => res.writableLength + (res.socket?.writableLength ?? 0);
        if (ended || unsent() <= options.maxUnsentBytes / 2) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const socket = res.socket;
          const check = () => {
            if (!ended && unsent() > options.maxUnsentBytes / 2) return;
            socket?.off('drain', check);
            resolve();
          };
          socket?.on('drain', check);
          cancels.push(check);
          if (!socket) resolve();
        });
      },
      onEnd(cancel) {
        if (ended) cancel();
        else cancels.push(cancel);
      },
    };
    entry.stream = stream;
    // The client may have gone while the stream was being prepared: its `close` is then already past.
    if (res.destroyed) {
      ended = true;
      return stream;
    }
    res.once('close', () => {
      if (!ended) finish();
    });
    res.writeHead(200, HEADERS[protocol]);
    res.write(PING);
    open.add(entry);
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
      for (const { stream } of [...open]) stream.end();
    },
    stop(): void {
      clearInterval(heartbeat);
    },
  };
}

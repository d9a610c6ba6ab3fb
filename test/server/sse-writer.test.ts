import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { VigilError } from '../../src/domain/errors.js';
import { createSseWriter, type SseWriter, sharedFrames } from '../../src/http/sse.js';

/**
 * The one SSE writer's shared frames, and its heartbeat on responses that record what is written to their sockets and
 * in which turn of the event loop: a beat over thousands of held streams must leave turns in between, so that an
 * event committed meanwhile is not held back behind every stream's ping.
 */

let turn = 0;
let ticking = true;
function tick(): void {
  turn += 1;
  if (ticking) setImmediate(tick);
}

/** Enough of node's ServerResponse for the writer: headers sent, chunked, nothing queued; socket writes recorded. */
function fakeResponse(writes: { stream: number; turn: number; bytes: string }[], stream: number) {
  const socket = {
    destroyed: false,
    writableLength: 0,
    write(chunk: Buffer) {
      writes.push({ stream, turn, bytes: chunk.toString() });
      return true;
    },
    setKeepAlive() {},
  };
  const res = {
    destroyed: false,
    headersSent: false,
    chunkedEncoding: true,
    outputSize: 0,
    writableLength: 0,
    writableFinished: false,
    socket,
    on() {},
    once() {},
    writeHead() {
      res.headersSent = true;
    },
    write(chunk: Buffer) {
      writes.push({ stream, turn, bytes: chunk.toString() });
      return true;
    },
    flushHeaders() {},
    end() {},
    destroy() {},
  };
  return res as unknown as ServerResponse;
}

describe('SSE writer', () => {
  let writer: SseWriter | null = null;
  afterEach(() => {
    writer?.stop();
    writer = null;
    ticking = false;
  });

  it('pings every open stream, a slice per turn of the event loop', async () => {
    const count = 2000;
    const writes: { stream: number; turn: number; bytes: string }[] = [];
    writer = createSseWriter({ heartbeatMs: 50, maxUnsentBytes: 1 << 20 });
    const errorFrame = (e: VigilError) => Buffer.from(e.message);
    for (let i = 0; i < count; i++) writer.start(fakeResponse(writes, i), { protocol: 'graphql-sse', errorFrame });
    writes.length = 0; // the first comments
    ticking = true;
    setImmediate(tick);
    await expect.poll(() => new Set(writes.map((w) => w.stream)).size, { timeout: 5000 }).toBe(count);
    const pings = writes.filter((w) => w.bytes.includes(':\n\n'));
    expect(pings.length).toBeGreaterThanOrEqual(count);
    const perTurn = new Map<number, number>();
    for (const w of pings) perTurn.set(w.turn, (perTurn.get(w.turn) ?? 0) + 1);
    // Some turns between the first and the last ping of the beat: the loop was let go between slices.
    expect(perTurn.size).toBeGreaterThan(1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(256);
  });

  it("builds a live item's frame once for every subscriber it goes to, and a replayed copy its own", () => {
    let builds = 0;
    const frameOf = sharedFrames((e: { sequence: number }) => {
      builds += 1;
      return Buffer.from(`data: ${e.sequence}\n\n`);
    });
    const live = { sequence: 7 };
    const frames = Array.from({ length: 1000 }, () => frameOf(live));
    expect(builds).toBe(1);
    expect(new Set(frames).size).toBe(1);
    const replayed = frameOf({ sequence: 7 });
    expect(builds).toBe(2);
    expect(replayed.equals(frames[0] as Buffer)).toBe(true);
  });
});

/** What a deadline ends: a held wait at its timeout. */
export interface Expiring {
  expire(): void;
}

/** How finely deadlines are kept: a wait answers its timeout at most this much late (timers are not exact either). */
const TICK_MS = 10;

/**
 * The timeouts of the process's held waits on one timer, not one each: every wait is filed under its deadline rounded
 * up to a tick, and the timer is set for the earliest tick. A node timer per wait is a Timeout object and an array of
 * its arguments (about 180 bytes, held as long as the wait); an entry in a set here is a few dozen. Every wait still
 * has its own deadline, checked against the clock when the timer fires.
 */
export class Deadlines {
  /** The waits due at each tick: one alone, or a set of them (a wait arriving alone in its tick needs no set). */
  private readonly due = new Map<number, Expiring | Set<Expiring>>();
  /** The ticks of `due`, ascending (a new wait's is nearly always the last: they all count from now). */
  private readonly ticks: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Number.POSITIVE_INFINITY;

  /** Files `item` to expire `ms` from now; returns the tick to `remove` it by. */
  add(item: Expiring, ms: number): number {
    const tick = Math.ceil((performance.now() + ms) / TICK_MS);
    const held = this.due.get(tick);
    if (held instanceof Set) held.add(item);
    else if (held) this.due.set(tick, new Set([held, item]));
    else {
      this.due.set(tick, item);
      this.ticks.splice(this.indexOf(tick), 0, tick);
    }
    if (tick < this.armedFor) this.arm(tick);
    return tick;
  }

  /** Takes `item` off its tick (it ended before its deadline). */
  remove(item: Expiring, tick: number): void {
    const held = this.due.get(tick);
    if (held instanceof Set ? !held.delete(item) || held.size > 0 : held !== item) return;
    this.due.delete(tick);
    this.ticks.splice(this.indexOf(tick), 1);
    if (this.ticks.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.armedFor = Number.POSITIVE_INFINITY;
    }
  }

  /** Where `tick` is or would go in `ticks`. */
  private indexOf(tick: number): number {
    const { ticks } = this;
    if (ticks.length === 0 || (ticks.at(-1) as number) < tick) return ticks.length;
    let lo = 0;
    let hi = ticks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ticks[mid] as number) < tick) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private arm(tick: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = tick;
    this.timer = setTimeout(fire, Math.max(0, tick * TICK_MS - performance.now()), this);
  }

  /** Expires what is due (each once: it is off the set before it is told), then sets the timer for the next tick. */
  run(): void {
    this.timer = null;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now() / TICK_MS;
    while (this.ticks.length > 0 && (this.ticks[0] as number) <= now) {
      const tick = this.ticks.shift() as number;
      const held = this.due.get(tick);
      this.due.delete(tick);
      if (held instanceof Set) for (const item of held) item.expire();
      else held?.expire();
    }
    const next = this.ticks[0];
    if (next !== undefined && next < this.armedFor) this.arm(next);
  }
}

function fire(deadlines: Deadlines): void {
  deadlines.run();
}

/** The process's one set of wait deadlines. */
export const waitDeadlines = new Deadlines();

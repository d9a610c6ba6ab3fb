import Anser, { type AnserJsonEntry } from 'anser';
import type { LogEvent } from '../../client/log-events.js';

/**
 * A run's output as the log pane shows it (API.md §8): each `LOG` event's text split into lines, the ANSI colours of
 * a line as spans (by anser, a maintained parser), search over the lines' plain text, and the text again for copy
 * and download. No DOM here, so it is tested in Node.
 */

/** One line of one `LOG` event: its text is the `n`-th line of `event.text`. */
export interface LogLine {
  event: LogEvent;
  n: number;
  /** What the line shows: no escape sequences, only what follows its last carriage return. */
  plain: string;
}

/** A run of text with one look: `cls` are CSS classes (the 16 colours, decorations), `style` the other colours. */
export interface Span {
  text: string;
  cls?: string;
  style?: { color?: string; backgroundColor?: string };
  /** Part of a search match. */
  mark?: boolean;
}

const ESC = '\x1b';

/** A text's lines, as a terminal would break them: at `\n` (a `\r\n` counts as one), none after a final newline. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}

/** What a terminal leaves of a line that rewrites itself (a progress counter): the part after its last `\r`. */
const afterReturn = (s: string) => s.slice(s.lastIndexOf('\r') + 1);

/** The lines of one `LOG` event, with their plain text (escape sequences removed by anser). */
export function linesOf(event: LogEvent): LogLine[] {
  return splitLines(event.text).map((raw, n) => ({
    event,
    n,
    plain: afterReturn(raw.includes(ESC) ? Anser.ansiToText(raw) : raw),
  }));
}

/** anser's 256-colour palette ("r, g, b" strings), built by anser itself; it keeps it in an undeclared field. */
const palette: string[] = (() => {
  const a = new Anser();
  a.setupPalette();
  return (a as unknown as { PALETTE_COLORS: string[] }).PALETTE_COLORS;
})();

function colour(value: string | null, truecolor: string | null, side: 'fg' | 'bg', span: Span): void {
  if (!value) return;
  const prop = side === 'fg' ? 'color' : 'backgroundColor';
  let rgb: string | undefined;
  if (value === 'ansi-truecolor') rgb = truecolor ?? undefined;
  else if (value.startsWith('ansi-palette-')) rgb = palette[Number(value.slice('ansi-palette-'.length))];
  else {
    span.cls = span.cls ? `${span.cls} ${value}-${side}` : `${value}-${side}`;
    return;
  }
  if (rgb) span.style = { ...span.style, [prop]: `rgb(${rgb})` };
}

function toSpan(e: AnserJsonEntry): Span {
  const span: Span = { text: e.content };
  // the 16 colours as classes (the pane's stylesheet gives them its own contrast), the other 240 and 24-bit inline
  colour(e.fg, e.fg_truecolor, 'fg', span);
  colour(e.bg, e.bg_truecolor, 'bg', span);
  for (const d of e.decorations ?? []) span.cls = span.cls ? `${span.cls} ansi-${d}` : `ansi-${d}`;
  return span;
}

/** Drops what precedes the last `\r` of a line (see {@link afterReturn}), across spans. */
function cutAtReturn(spans: Span[]): Span[] {
  for (let i = spans.length - 1; i >= 0; i--) {
    const s = spans[i] as Span;
    const at = s.text.lastIndexOf('\r');
    if (at >= 0) return [{ ...s, text: s.text.slice(at + 1) }, ...spans.slice(i + 1)].filter((x) => x.text !== '');
  }
  return spans;
}

/**
 * The spans of every line of an event's text. anser reads the whole text at once and the spans are then cut at its
 * newlines, so a colour set on one line and reset on a later one (a red stack trace) colours the lines between, as in
 * a terminal; each event starts plain.
 */
export function spansOf(event: LogEvent): Span[][] {
  const count = splitLines(event.text).length;
  if (!event.text.includes(ESC)) return splitLines(event.text).map((l) => [{ text: afterReturn(l) }]);
  const lines: Span[][] = [[]];
  for (const span of Anser.ansiToJson(event.text, { json: true, use_classes: true, remove_empty: true }).map(toSpan)) {
    span.text.split('\n').forEach((part, i) => {
      if (i > 0) lines.push([]);
      if (part !== '') (lines[lines.length - 1] as Span[]).push({ ...span, text: part });
    });
  }
  return lines.slice(0, count).map((l) => cutAtReturn(withoutFinalReturn(l)));
}

/** A `\r\n` line break is one break: the `\r` is not a rewrite of the line. */
function withoutFinalReturn(spans: Span[]): Span[] {
  const last = spans[spans.length - 1];
  if (!last?.text.endsWith('\r')) return spans;
  const text = last.text.slice(0, -1);
  return text === '' ? spans.slice(0, -1) : [...spans.slice(0, -1), { ...last, text }];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A case-insensitive search for `query` as typed (no pattern syntax); null for an empty query. */
export function searchPattern(query: string): RegExp | null {
  return query === '' ? null : new RegExp(escapeRegExp(query), 'giu');
}

/** Appends to `into` the indexes of the lines from `from` on whose plain text matches. */
export function findMatches(lines: readonly LogLine[], pattern: RegExp, from: number, into: number[]): void {
  for (let i = from; i < lines.length; i++) {
    pattern.lastIndex = 0;
    if (pattern.test((lines[i] as LogLine).plain)) into.push(i);
  }
}

/** The spans again, split where `pattern` matches the line's text, the matching parts marked. */
export function markMatches(spans: readonly Span[], pattern: RegExp | null): Span[] {
  if (!pattern) return [...spans];
  const text = spans.map((s) => s.text).join('');
  const ranges: [number, number][] = [];
  pattern.lastIndex = 0;
  for (const m of text.matchAll(pattern)) if (m[0] !== '') ranges.push([m.index, m.index + m[0].length]);
  if (ranges.length === 0) return [...spans];
  const out: Span[] = [];
  let at = 0;
  let r = 0;
  for (const s of spans) {
    const end = at + s.text.length;
    let pos = at;
    while (pos < end) {
      while (r < ranges.length && (ranges[r] as [number, number])[1] <= pos) r++;
      const range = ranges[r];
      if (!range || range[0] >= end) {
        out.push({ ...s, text: s.text.slice(pos - at) });
        pos = end;
      } else if (range[0] > pos) {
        out.push({ ...s, text: s.text.slice(pos - at, range[0] - at) });
        pos = range[0];
      } else {
        const stop = Math.min(range[1], end);
        out.push({ ...s, text: s.text.slice(pos - at, stop - at), mark: true });
        pos = stop;
      }
    }
    at = end;
  }
  return out;
}

/** Every event's text as written, a newline added where one is missing: what `GET …/logs` answers (API.md §8). */
export function rawText(events: readonly LogEvent[]): string {
  return events.map((e) => (e.text.endsWith('\n') ? e.text : `${e.text}\n`)).join('');
}

/** The lines as they show, without escape sequences: what "Copy" puts on the clipboard. */
export function plainText(lines: readonly LogLine[]): string {
  return lines.map((l) => `${l.plain}\n`).join('');
}

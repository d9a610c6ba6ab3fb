import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/client/log-events.js';
import {
  findMatches,
  linesOf,
  markMatches,
  plainText,
  rawText,
  searchPattern,
  spansOf,
  splitLines,
} from '../../src/ui/app/log-lines.js';

/** The dashboard's log pane, its pure parts: lines, ANSI colours (by anser), search, copy and download text. */
let seq = 0;
const log = (text: string, stream = 'stdout'): LogEvent => ({
  sequence: ++seq,
  executionId: 'e',
  type: 'LOG',
  occurredAt: '2026-12-05T00:00:00.000Z',
  stream,
  level: null,
  text,
});
const texts = (spans: { text: string }[]) => spans.map((s) => s.text).join('');

describe('log lines', () => {
  it('splits a text at newlines, a final newline ending the last line rather than opening one', () => {
    expect(splitLines('one')).toEqual(['one']);
    expect(splitLines('one\n')).toEqual(['one']);
    expect(splitLines('one\ntwo\n')).toEqual(['one', 'two']);
    expect(splitLines('one\r\ntwo\r\n')).toEqual(['one', 'two']);
    expect(splitLines('a\n\nb')).toEqual(['a', '', 'b']);
    expect(splitLines('')).toEqual(['']);
    expect(splitLines('\n')).toEqual(['']);
  });

  it("gives each line its plain text: escape sequences removed, a rewritten line's last state", () => {
    const lines = linesOf(log('\x1b[32mok\x1b[0m done\n\x1b[1;31mFAIL\x1b[0m x\nprogress 10%\rprogress 100%\n'));
    expect(lines.map((l) => l.plain)).toEqual(['ok done', 'FAIL x', 'progress 100%']);
    expect(lines.map((l) => l.n)).toEqual([0, 1, 2]);
  });
});

describe('ANSI colours', () => {
  it('renders the 16 colours and decorations as classes, the 256-colour palette and 24-bit colour inline', () => {
    const [line] = spansOf(log('\x1b[31mred\x1b[0m \x1b[1;4;92mbold\x1b[0m \x1b[38;5;196mp\x1b[48;2;1;2;3mt\x1b[0m'));
    expect(line).toEqual([
      { text: 'red', cls: 'ansi-red-fg' },
      { text: ' ' },
      { text: 'bold', cls: 'ansi-bright-green-fg ansi-bold ansi-underline' },
      { text: ' ' },
      { text: 'p', style: { color: 'rgb(255, 0, 0)' } },
      { text: 't', style: { color: 'rgb(255, 0, 0)', backgroundColor: 'rgb(1, 2, 3)' } },
    ]);
  });

  it('carries a colour across the lines of one text until it is reset, and starts each text plain', () => {
    const trace = spansOf(log('\x1b[31mError: boom\n    at main\n    at run\x1b[0m\nafter'));
    expect(trace.map((l) => l.map((s) => s.cls ?? null))).toEqual([
      ['ansi-red-fg'],
      ['ansi-red-fg'],
      ['ansi-red-fg'],
      [null],
    ]);
    expect(spansOf(log('\x1b[31mopen'))[0]).toEqual([{ text: 'open', cls: 'ansi-red-fg' }]);
    expect(spansOf(log('next'))[0]).toEqual([{ text: 'next' }]);
  });

  it('shows what a line rewritten with carriage returns ends as, and hides cursor movement', () => {
    expect(spansOf(log('\x1b[33m 10%\r\x1b[33m 55%\r\x1b[32m100%\x1b[0m'))[0]).toEqual([
      { text: '100%', cls: 'ansi-green-fg' },
    ]);
    expect(texts(spansOf(log('a\x1b[2Kb\x1b[1Ac'))[0] ?? [])).toBe('abc');
    expect(spansOf(log('\x1b[31ma\x1b[0m\r\nb\r\n'))).toEqual([[{ text: 'a', cls: 'ansi-red-fg' }], [{ text: 'b' }]]);
  });

  it('keeps markup-looking text as text (the pane renders spans, never HTML)', () => {
    expect(spansOf(log('<img src=x onerror=alert(1)> & \x1b[31m<b>'))[0]).toEqual([
      { text: '<img src=x onerror=alert(1)> & ' },
      { text: '<b>', cls: 'ansi-red-fg' },
    ]);
  });
});

describe('search', () => {
  const lines = [
    log('Downloading part 1\nDownloading part 2\n'),
    log('\x1b[31mERROR\x1b[0m: disk (full) [sda]\n', 'stderr'),
    log('done, 2 parts\n'),
  ].flatMap(linesOf);

  it('finds lines by their plain text, case-insensitively, taking the query literally', () => {
    const find = (q: string) => {
      const into: number[] = [];
      const p = searchPattern(q);
      if (p) findMatches(lines, p, 0, into);
      return into;
    };
    expect(find('downloading')).toEqual([0, 1]);
    expect(find('error: disk')).toEqual([2]); // across the colour change
    expect(find('(full) [sda]')).toEqual([2]);
    expect(find('.')).toEqual([]);
    expect(find('part')).toEqual([0, 1, 3]);
    expect(searchPattern('')).toBeNull();
  });

  it('scans only the lines added since the last scan', () => {
    const p = searchPattern('part') as RegExp;
    const into: number[] = [];
    findMatches(lines.slice(0, 2), p, 0, into);
    findMatches(lines, p, 2, into);
    expect(into).toEqual([0, 1, 3]);
  });

  it('marks every match inside the spans, splitting them where a match crosses a colour change', () => {
    const [line] = spansOf(log('\x1b[31mERROR\x1b[0m: error'));
    const marked = markMatches(line ?? [], searchPattern('ror: e'));
    expect(marked).toEqual([
      { text: 'ER', cls: 'ansi-red-fg' },
      { text: 'ROR', cls: 'ansi-red-fg', mark: true },
      { text: ': e', mark: true },
      { text: 'rror' },
    ]);
    expect(
      markMatches(line ?? [], searchPattern('err'))
        .filter((s) => s.mark)
        .map((s) => s.text),
    ).toEqual(['ERR', 'err']);
    expect(markMatches(line ?? [], null)).toEqual(line);
  });
});

describe('copy and download', () => {
  const events = [log('one\ntwo'), log('\x1b[31mthree\x1b[0m\n', 'stderr'), log('4%\r100%')];

  it('downloads the texts as written, a newline added where one is missing (as GET …/logs answers)', () => {
    expect(rawText(events)).toBe('one\ntwo\n\x1b[31mthree\x1b[0m\n4%\r100%\n');
  });

  it('copies the lines as they show, one per line, without escape sequences', () => {
    expect(plainText(events.flatMap(linesOf))).toBe('one\ntwo\nthree\n100%\n');
  });
});

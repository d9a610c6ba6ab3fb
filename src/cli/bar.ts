import pc from 'picocolors';

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
/** Erases from the cursor to the end of the line: written after the text, never before it. */
const ERASE_REST = '\x1b[K';

export interface BarState {
  percentage: number;
  status: string;
  step: string;
}

/**
 * `vigil watch`'s progress bar: one terminal line, redrawn in place. Every change is a single write that draws the
 * new text over the old one and then erases what is left of the old line; nothing is cleared before it is drawn,
 * and a log line takes the bar's place in the same write that draws the bar again below it. So the bar never
 * disappears between two frames (cli-progress cleared the line, then wrote, in separate writes: a screen read
 * between them showed no bar). The line is cut to the terminal's width, since a wrapped line cannot be redrawn
 * with a carriage return.
 */
export class LineBar {
  private state: BarState;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly label: string,
    initial: BarState,
  ) {
    this.state = initial;
    out.write(`${HIDE_CURSOR}${this.line()}${ERASE_REST}`);
  }

  /** Redraws the bar with `state`, after printing `above` (a line that scrolls up above it), in one write. */
  update(state: BarState, above?: string): void {
    this.state = state;
    // Each line of `above` erases what is left of the line it is drawn over (the bar, on the first).
    const printed = above === undefined ? '' : `${above.split('\n').join(`${ERASE_REST}\n`)}${ERASE_REST}\n`;
    this.out.write(`\r${printed}${this.line()}${ERASE_REST}`);
  }

  /** Removes the bar and gives the cursor back. */
  stop(): void {
    this.out.write(`\r${ERASE_REST}${SHOW_CURSOR}`);
  }

  private line(): string {
    const width = Math.max(20, (this.out.columns || 80) - 1);
    const pct = Math.max(0, Math.min(100, Math.round(this.state.percentage)));
    const size = Math.max(10, Math.min(30, width - 40));
    const filled = Math.round((pct / 100) * size);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(size - filled)}`;
    const fixed = `${bar} ${String(pct).padStart(3)}% ${this.state.status}`;
    // the label and the step give way first; the bar, percentage and status always show
    const room = width - fixed.length - 1;
    const label = cut(this.label, Math.max(0, Math.min(this.label.length, room)));
    const step = cut(this.state.step, Math.max(0, room - label.length - 1));
    return [label && pc.bold(label), fixed, step && pc.dim(step)].filter(Boolean).join(' ');
  }
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 1 ? '' : `${text.slice(0, max - 1)}…`;
}

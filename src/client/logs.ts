/** API.md §8: a run's output, for `vigil logs`, `vigil watch --logs` and the dashboard. */
export { VIGIL_STREAM } from './log-events.js';

/** A line's text as the logs endpoint and `vigil logs` print it: as written, a newline added where one is missing. */
export function printable(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

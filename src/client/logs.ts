/** API.md §8: a run's output, for `vigil logs`, `vigil watch --logs` and the dashboard. */
/** The stream of the server's own notices (e.g. that output past the cap was dropped). */
export const VIGIL_STREAM = 'vigil';

/** A line's text as the logs endpoint and `vigil logs` print it: as written, a newline added where one is missing. */
export function printable(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** What an element's quotes must escape: backslash and double quote. */
const ESCAPED = /[\\"]/g;
const SPECIAL = /[\\"]/;

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) for one text parameter, cast in SQL (`$1::uuid[]`). Both drivers
 * pass text the same way, while their own array serializers differ (PGlite does not quote enum or JSON elements).
 * Built in one pass, and an element is only rewritten when it holds a character to escape: a batch's log texts are
 * the longest parameters a write sends, and most have none.
 */
export function pgArray(values: readonly (string | number | boolean | null | undefined)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    if (v === null || v === undefined) {
      out += 'NULL';
    } else {
      const s = typeof v === 'string' ? v : String(v);
      out += `"${SPECIAL.test(s) ? s.replace(ESCAPED, '\\$&') : s}"`;
    }
  }
  return `${out}}`;
}

/** What an element's quotes must escape: backslash and double quote, in one pass. */
const ESCAPED = /[\\"]/g;

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) for one text parameter, cast in SQL (`$1::uuid[]`). Both drivers
 * pass text the same way, while their own array serializers differ (PGlite does not quote enum or JSON elements).
 */
export function pgArray(values: readonly (string | number | boolean | null | undefined)[]): string {
  return `{${values.map((v) => (v === null || v === undefined ? 'NULL' : `"${String(v).replace(ESCAPED, '\\$&')}"`)).join(',')}}`;
}

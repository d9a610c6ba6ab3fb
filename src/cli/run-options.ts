import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since 30m`, `2h`, `7d` (also `s` and `w`): a duration in milliseconds. */
export function parseSince(value: string): number {
  const m = /^(\d+)([smhdw])$/.exec(value.trim());
  const ms = m ? Number(m[1]) * (UNITS[m[2] ?? ''] ?? 0) : 0;
  if (!m || !(ms > 0) || !Number.isSafeInteger(ms)) {
    throw new InvalidArgumentError('expected a duration like 30m, 2h or 7d (a whole number and one of s, m, h, d, w)');
  }
  return ms;
}

/**
 * `--tag key=value`, repeatable: split at the first `=`, which a key cannot contain (API.md §8). The key's other
 * rules are the server's to apply (VALIDATION_FAILED naming the field).
 */
export function parseTag(value: string, previous: { key: string; value: string }[] = []) {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('expected key=value, e.g. --tag team=data');
  return [...previous, { key: value.slice(0, at), value: value.slice(at + 1) }];
}

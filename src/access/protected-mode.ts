import { isIP } from 'node:net';

/** 127.0.0.0/8, ::1, localhost (API.md §5: only these may run with auth off). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

/**
 * Like Redis's protected mode: with auth off, only a loopback address may be served. Returns the refusal message,
 * or null when the combination is allowed.
 */
export function protectedModeRefusal(host: string, auth: 'on' | 'off'): string | null {
  if (auth === 'on' || isLoopback(host)) return null;
  return [
    `Refusing to listen on ${host} with auth off: anyone who can reach it could read and change every execution.`,
    'Either turn auth on and create a key:',
    '  VIGIL_AUTH=on npm start',
    '  npx vigil keys create --org ORG --env test,live --scopes executions:read,executions:write',
    'or listen on loopback only (HOST=127.0.0.1, the default).',
  ].join('\n');
}

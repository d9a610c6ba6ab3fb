import { readFileSync } from 'node:fs';

/** CPU time (user + system) a process has used, in ms, from /proc (clock ticks of 10 ms); 0 once it is gone. */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [utime, stime] = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .slice(11, 13)
      .map(Number);
    return ((utime ?? 0) + (stime ?? 0)) * 10;
  } catch {
    return 0;
  }
}

/** CPU time the whole machine has used (every CPU's time but idle and iowait), in ms, from /proc/stat; 0 unreadable. */
export function machineCpuMs(): number {
  try {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return (f.reduce((a, b) => a + b, 0) - idle) * 10;
  } catch {
    return 0;
  }
}

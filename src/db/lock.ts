import { closeSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PGlite has no cross-process lock: two processes on one data dir silently lose writes (STACK.md §2).
 * This file lock makes the second process refuse to start instead. A lock whose pid is gone is stale and taken over.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockPath = join(dataDir, 'vigil.lock');
  const tmpPath = `${lockPath}.${process.pid}`;
  const fd = openSync(tmpPath, 'w');
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmpPath, lockPath); // atomic: fails when the lock exists
        return () => releaseLock(lockPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = readHolder(lockPath);
        if (holder !== null && holder !== process.pid && isAlive(holder)) {
          throw new Error(
            `The data directory ${dataDir} is in use by another Vigil process (pid ${holder}). ` +
              'PGlite allows one process per data directory: stop that process, or set VIGIL_DATA_DIR to another ' +
              'directory, or set DATABASE_URL to share a PostgreSQL between instances.',
          );
        }
        if (readHolder(lockPath) === holder) unlinkSync(lockPath); // stale: its process is gone
      }
    }
    throw new Error(`Could not take the lock ${lockPath}; another process is racing for it. Try again.`);
  } finally {
    unlinkSync(tmpPath);
  }
}

function readHolder(lockPath: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isFinite(pid) ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseLock(lockPath: string): void {
  if (readHolder(lockPath) === process.pid) {
    try {
      unlinkSync(lockPath);
    } catch {
      // already gone
    }
  }
}

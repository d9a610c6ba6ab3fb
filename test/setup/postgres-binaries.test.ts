import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executableBy } from '../support/postgres-binaries.js';

const postgres = { uid: 101, gid: 104 };
const dir = (mode: number, uid = 0, gid = 0) => ({ mode: 0o040000 | mode, uid, gid });
const file = (mode: number, uid = 0, gid = 0) => ({ mode: 0o100000 | mode, uid, gid });

/** A fake file system: path → stat, symlinks resolved by `links`. */
function fs(tree: Record<string, ReturnType<typeof dir>>, links: Record<string, string> = {}) {
  return {
    stat: (p: string) => {
      const s = tree[p];
      if (!s) throw new Error(`no ${p}`);
      return s;
    },
    realpath: (p: string) => links[p] ?? p,
  };
}

describe("the test setup's check that the postgres user can run PostgreSQL's binaries", () => {
  const bin = '/home/me/vigil/initdb';

  it('says no when a directory above is 0700 and owned by root (a mktemp -d checkout, /root)', () => {
    const f = fs({
      '/': dir(0o755),
      '/home': dir(0o755),
      '/home/me': dir(0o700),
      '/home/me/vigil': dir(0o755),
      [bin]: file(0o755),
    });
    expect(executableBy(bin, postgres, f.stat, f.realpath)).toBe(false);
  });

  it('says yes when every directory above can be searched by others and the file run', () => {
    const f = fs({
      '/': dir(0o755),
      '/home': dir(0o755),
      '/home/me': dir(0o711),
      '/home/me/vigil': dir(0o755),
      [bin]: file(0o755),
    });
    expect(executableBy(bin, postgres, f.stat, f.realpath)).toBe(true);
  });

  it('uses the owner and group bits that apply to the user', () => {
    const owned = fs({
      '/': dir(0o755),
      '/home': dir(0o755),
      '/home/me': dir(0o700, 101),
      '/home/me/vigil': dir(0o755),
      [bin]: file(0o700, 101),
    });
    expect(executableBy(bin, postgres, owned.stat, owned.realpath)).toBe(true);
    const group = (mode: number) =>
      fs({
        '/': dir(0o755),
        '/home': dir(0o755),
        '/home/me': dir(mode, 0, 104),
        '/home/me/vigil': dir(0o755),
        [bin]: file(0o755),
      });
    expect(executableBy(bin, postgres, group(0o750).stat, group(0o750).realpath)).toBe(true);
    expect(executableBy(bin, postgres, group(0o740).stat, group(0o740).realpath)).toBe(false);
  });

  it('follows a link to where the file really is', () => {
    const f = fs(
      {
        '/': dir(0o755),
        '/usr': dir(0o755),
        '/usr/initdb': file(0o755),
        '/root': dir(0o700),
        '/root/initdb': file(0o755),
      },
      { '/usr/initdb': '/root/initdb' },
    );
    expect(executableBy('/usr/initdb', postgres, f.stat, f.realpath)).toBe(false);
  });

  it('reads the real file system: a file in a fresh mktemp directory is out of reach until it is opened', () => {
    const base = mkdtempSync(join(tmpdir(), 'vigil-reach-'));
    try {
      const target = join(base, 'initdb');
      writeFileSync(target, '#!/bin/sh\n');
      chmodSync(target, 0o755);
      const nobody = { uid: 65534, gid: 65534 };
      expect(executableBy(target, nobody)).toBe(false);
      chmodSync(base, 0o755);
      expect(executableBy(target, nobody)).toBe(tmpdirIsOpen());
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

/** Whether the temporary directory itself (and all above it) can be searched by others, as /tmp can. */
function tmpdirIsOpen(): boolean {
  return executableBy(tmpdir(), { uid: 65534, gid: 65534 });
}

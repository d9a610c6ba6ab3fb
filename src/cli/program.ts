import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerExecutionCommands } from './executions.js';
import { registerKeysCommands } from './keys.js';
import { registerLogsCommand } from './logs.js';
import { registerPurgeCommand } from './purge.js';
import { registerWaitCommand } from './wait.js';
import { registerWatchCommand } from './watch.js';

/**
 * The `vigil` command tree. Each command group lives in its own file and is registered here.
 * Exit codes: 0 success; 3 usage, connection or access errors (commands may document more, e.g. `wait`).
 */
export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('Vigil: track, wait for and watch executions')
    .version(version(), '-V, --version', 'print the version of Vigil')
    .showHelpAfterError()
    .exitOverride();
  registerExecutionCommands(program);
  registerWaitCommand(program);
  registerWatchCommand(program);
  registerLogsCommand(program);
  registerKeysCommands(program);
  registerPurgeCommand(program);
  return program;
}

/** The package's version (src/cli and dist/cli are both two levels below package.json). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the CLI on argv and returns the exit code (never calls process.exit, so it can be tested in process). */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return 3;
    const message = err instanceof Error ? err.message : String(err);
    if (message) process.stderr.write(`vigil: ${message}\n`); // a CliExit without a message has said its piece
    const exit = (err as { exitCode?: number }).exitCode;
    return typeof exit === 'number' ? exit : 3;
  }
}

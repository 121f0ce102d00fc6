/**
 * The one place where failures become a message and an exit code.
 * UserError: one line, its own exit code (2 for input and usage errors).
 * Anything else is a bug or an environment failure: one line, exit 1, and the
 * stack only with --debug.
 */
import { CommanderError } from 'commander';
import { UserError } from '../util/errors';
import { paint } from './color';

export function reportError(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    // commander already printed its one line (unknown option, missing argument...)
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return 2;
  }
  if (e instanceof UserError) {
    process.stderr.write(`${paint('error:', 31)} ${e.message}\n`);
    if (debug && e.stack) process.stderr.write(e.stack + '\n');
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`${paint('error:', 31)} ${err.message.split('\n')[0]}${debug ? '' : ' (run with --debug for the stack trace)'}\n`);
  if (debug && err.stack) process.stderr.write(err.stack + '\n');
  return 1;
}

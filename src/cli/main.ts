/** Builds the nn program from its commands and runs it. No logic lives here. */
import { Command } from 'commander';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { inspectCommand } from './commands/inspect';
import { pruneCommand } from './commands/prune';
import { quantizeCommand } from './commands/quantize';
import { predictCommand } from './commands/predict';
import { serveCommand } from './commands/serve';
import { trainCommand } from './commands/train';
import { tuneCommand } from './commands/tune';
import { reportError } from './errors';

export async function main(argv: string[]): Promise<number> {
  // `nn ... | head`: when the reader goes away, stop quietly, as Unix tools do
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  const program = new Command('nn')
    .description('train, evaluate and use from-scratch neural networks on MNIST digits')
    .version(require('../../package.json').version)
    .option('--debug', 'show stack traces for errors');
  for (const cmd of [program, trainCommand(), evalCommand(), predictCommand(), tuneCommand(), serveCommand(), exportCommand(), inspectCommand(), pruneCommand(), quantizeCommand()]) {
    cmd.exitOverride().showSuggestionAfterError(true).configureOutput({ outputError: oneLine });
    if (cmd !== program) program.addCommand(cmd);
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0; // a command may set one (nn train interrupted: 130, 143)
  } catch (e) {
    return reportError(e, argv.includes('--debug'));
  }
}

/** Commander puts its suggestion on a line of its own; errors here are one line. */
function oneLine(message: string, write: (s: string) => void): void {
  write(message.trim().replace(/\s*\n\s*/g, ' ') + '\n');
}

/** Builds the nn program from its commands and runs it. No logic lives here. */
import { Command } from 'commander';
import { evalCommand } from './commands/eval';
import { predictCommand } from './commands/predict';
import { trainCommand } from './commands/train';
import { reportError } from './errors';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('nn')
    .description('train, evaluate and use from-scratch neural networks on MNIST digits')
    .version(require('../../package.json').version)
    .option('--debug', 'show stack traces for errors')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run nn --help for usage)')
    .exitOverride();
  for (const cmd of [trainCommand(), evalCommand(), predictCommand()]) {
    program.addCommand(cmd.exitOverride().showSuggestionAfterError(true));
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    return reportError(e, argv.includes('--debug'));
  }
}

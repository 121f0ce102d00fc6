/** nn serve: a local web server to draw digits for a model, and to follow runs and studies live. */
import { spawn } from 'node:child_process';
import { Command, Option } from 'commander';
import { paint } from '../color';
import { UserError } from '../../util/errors';
import { intOption } from '../options';

const MORE = `
Pages: / (draw a digit, see the guess, the ten probabilities, the 28x28 input and a saliency map),
/runs and /runs/<name> (curves, confusion, per-class table, misclassified test images; live while a
run trains), /tune/<name> (a study's trials, live). API under /api (see README: nn serve).

Binds 127.0.0.1 unless --host says otherwise; another address needs --token (or NN_SERVE_TOKEN).
Requests under another Host name are refused (DNS rebinding), as are POSTs from other sites.`;

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the drawing page, the runs and studies pages and the HTTP API on this machine')
    .option('-m, --model <path>', 'model.safetensors or its run folder (default: the most recent run, followed as new ones finish)')
    .option('--runs <dir>', 'the folder of runs to show (studies: its tune/ folder)', 'runs')
    .addOption(new Option('-p, --port <n>', 'port (0: any free one)').argParser(intOption('--port', 0)).default(8080))
    .option('--host <address>', 'address to bind; beyond 127.0.0.1 needs --token', '127.0.0.1')
    .option('--token <secret>', 'require this token of every request (default: NN_SERVE_TOKEN)')
    .option('--allow-host <name...>', 'more Host names to accept (a proxy in front, say)')
    .option('--open', 'open the drawing page in the browser')
    .addHelpText('after', MORE)
    .action(async (opts: { model?: string; runs: string; port: number; host: string; token?: string; allowHost?: string[]; open?: boolean }) => {
      if (opts.port > 65535) throw new UserError(`--port ${opts.port}: expected 0 to 65535`);
      const { startServer } = require('../../serve/server') as typeof import('../../serve/server');
      const s = await startServer({ model: opts.model, runs: opts.runs, port: opts.port, host: opts.host, token: opts.token ?? process.env.NN_SERVE_TOKEN ?? null, allowHosts: opts.allowHost });
      process.stdout.write(`nn serve: ${paint(s.url, 36)}  (model: ${s.model ?? 'none yet'}; Ctrl-C stops)\n`);
      for (const n of s.notes) process.stderr.write(`${paint('note:', 33)} ${n}\n`);
      if (opts.open) spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [s.url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void s.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stdout.write('nn serve: stopped\n');
    });
}

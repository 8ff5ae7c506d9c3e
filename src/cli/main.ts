import { Command, InvalidArgumentError } from 'commander';
import { serve } from './serve.js';
import { setLogLevel, type LogLevel } from '../util/log.js';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port number');
  return n;
}

/** Entry point of the `nfs-localio` command. Resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('nfs-localio')
    .description('User-space NFSv3 server and client with LOCALIO')
    .option('--log-level <level>', 'debug | info | warn | error | silent', 'info')
    .hook('preAction', (cmd) => setLogLevel(cmd.opts().logLevel as LogLevel))
    .exitOverride();

  program
    .command('serve')
    .description('serve DIR (read-write, insecure, root_squash, on 127.0.0.1) or the exports of --exports FILE')
    .argument('[dir]', 'directory to export')
    .option('--exports <file>', 'exports(5) file')
    .option('--port <n>', 'TCP port for NFS and MOUNT', port, 2049)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--portmap', 'also answer the portmapper on port 111')
    .option('--state-dir <dir>', 'where the file-handle key and state live')
    .action(async (dir: string | undefined, o) => {
      code = await serve(dir, o);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (typeof e.exitCode === 'number' && e.code?.startsWith('commander.')) return e.exitCode;
    process.stderr.write(`nfs-localio: ${e.message ?? String(err)}\n`);
    return 1;
  }
  return code;
}

import { Command, InvalidArgumentError } from 'commander';
import { setLogLevel, type LogLevel } from '../util/log.js';
import { cliDefaults } from './defaults.js';

// Subcommands are imported when they run: a client command does not pay for loading the server
// (measured: ~70 ms of start-up), nor `serve` for the client.

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port number');
  return n;
}

/** rtmax/wtmax: a multiple of 4 KiB between 4 KiB and 4 MiB (the record cap follows wtmax). */
function transferSize(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 4096 || n > 4 * 1024 * 1024 || n % 4096 !== 0) {
    throw new InvalidArgumentError('a multiple of 4096 between 4096 and 4194304');
  }
  return n;
}

/** The NFSv4 lease: whole seconds, 10 s to an hour. */
function leaseTime(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 10 || n > 3600) throw new InvalidArgumentError('whole seconds between 10 and 3600');
  return n;
}

function nfsVersion(v: string): string {
  if (!/^(3|4|4\.1|4\.2|auto)$/.test(v)) throw new InvalidArgumentError('3, 4, 4.1, 4.2 or auto');
  return v;
}

/** Entry point of the `nfs-localio` command. Resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('nfs-localio')
    .description('User-space NFSv3 server and client with LOCALIO')
    .option('--log-level <level>', 'debug | info | warn | error | silent', 'info')
    .option('--nfs-version <v>', 'client commands: the NFS version of URLs without version= (3, 4, 4.1, 4.2 or auto: 4.2, 4.1, then 3)', nfsVersion)
    .hook('preAction', (cmd) => {
      setLogLevel(cmd.opts().logLevel as LogLevel);
      cliDefaults.nfsVersion = cmd.opts().nfsVersion as string | undefined;
    })
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
    .option('--rtmax <bytes>', 'largest READ served, advertised in FSINFO (4096..4194304)', transferSize, 1024 * 1024)
    .option('--wtmax <bytes>', 'largest WRITE accepted, advertised in FSINFO (4096..4194304)', transferSize, 1024 * 1024)
    .option('--no-localio', 'do not offer LOCALIO (program 400122 answers PROG_UNAVAIL)')
    .option('--no-write-behind', 'answer UNSTABLE WRITEs only after their data is in the file system')
    .option('--no-direct-writes', 'write all WRITE data through the page cache (default: large aligned writes use O_DIRECT)')
    .option('--no-splice-reads', 'copy READ data through memory (default: large READs are spliced from the page cache to the socket)')
    .option('--same-host-cc <name>', 'TCP congestion control for connections from this host ("system": leave them to the system default)', 'reno')
    .option('--metrics <[host:]port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (host defaults to 127.0.0.1)')
    .option('--rendezvous <dir>', 'LOCALIO rendezvous directory (default $NFS_LOCALIO_RENDEZVOUS, /run/nfs-localio or $TMPDIR/nfs-localio)')
    .option('--no-nfs4', 'serve NFSv3 only (program 100003 version 4 answers PROG_MISMATCH 3..3)')
    .option('--lease-time <seconds>', 'the NFSv4 lease (10..3600)', leaseTime, 90)
    .option('--grace-time <seconds>', 'the NFSv4 grace period after a restart, for clients to reclaim their opens and locks (10..3600; default: the lease)', leaseTime)
    .option('--idmap-domain <domain>', 'NFSv4 owners as user@DOMAIN / group@DOMAIN through this host\'s passwd and group (default: numeric "1000")')
    .action(async (dir: string | undefined, o) => {
      const { serve } = await import('./serve.js');
      code = await serve(dir, o);
    });

  // client subcommands (URLs: nfs://HOST[:PORT]/EXPORT/PATH?version=V&nfsport=N&mountport=N&uid=N&gid=N)
  program
    .command('ls')
    .description('list directory contents on an NFS export, like ls(1)')
    .argument('<url...>')
    .option('-l', 'long listing (numeric owners)')
    .option('-a, --all', 'include entries starting with . (and . and ..)')
    .option('-A, --almost-all', 'include entries starting with ., not . and ..')
    .option('-R, --recursive', 'list subdirectories recursively')
    .option('-d, --directory', 'list directories themselves, not their contents')
    .option('-1', 'one entry per line')
    .action(async (urls: string[], o) => {
      const { ls } = await import('./ls.js');
      code = await ls(urls, { long: !!o.l, all: !!o.all, almostAll: !!o.almostAll, recursive: !!o.recursive, directory: !!o.directory, one: !!o['1'] });
    });

  program
    .command('cat')
    .description('write NFS files to standard output, like cat(1)')
    .argument('<url...>')
    .action(async (urls: string[]) => {
      const { cat } = await import('./cat.js');
      code = await cat(urls);
    });

  program
    .command('cp')
    .description('copy files to, from or within NFS exports, like cp(1) (progress bar on a terminal)')
    .argument('<src-and-dest...>', 'SRC... DEST (each a local path or an nfs:// URL)')
    .option('-r, -R, --recursive', 'copy directories recursively')
    .option('-q, --quiet', 'no progress bar')
    .option('-v, --verbose', 'explain what is being done')
    .action(async (args: string[], o) => {
      const { cp } = await import('./cp.js');
      code = await cp(args, { recursive: !!o.recursive || !!o.R, quiet: !!o.quiet, verbose: !!o.verbose });
    });

  program
    .command('stat')
    .description('display file status of NFS paths, like stat(1)')
    .argument('<url...>')
    .option('-L, --dereference', 'follow links')
    .action(async (urls: string[], o) => {
      const { statCmd } = await import('./stat.js');
      code = await statCmd(urls, { dereference: !!o.dereference });
    });

  program
    .command('mkdir')
    .description('make directories on an NFS export, like mkdir(1)')
    .argument('<url...>')
    .option('-p, --parents', 'no error if existing, make parent directories as needed')
    .option('-m, --mode <mode>', 'set file mode (octal)')
    .option('-v, --verbose', 'print a message for each created directory')
    .action(async (urls: string[], o) => {
      const { mkdirCmd } = await import('./mkdir.js');
      code = await mkdirCmd(urls, { parents: !!o.parents, mode: o.mode, verbose: !!o.verbose });
    });

  program
    .command('rm')
    .description('remove files or directories on an NFS export, like rm(1)')
    .argument('[url...]')
    .option('-r, -R, --recursive', 'remove directories and their contents recursively')
    .option('-f, --force', 'ignore nonexistent files, never prompt')
    .option('-d, --dir', 'remove empty directories')
    .option('-v, --verbose', 'explain what is being done')
    .action(async (urls: string[], o) => {
      const { rmCmd } = await import('./rm.js');
      code = await rmCmd(urls, { recursive: !!o.recursive || !!o.R, force: !!o.force, dir: !!o.dir, verbose: !!o.verbose });
    });

  program
    .command('mv')
    .description('move (rename) files on or between NFS exports and the local disk, like mv(1)')
    .argument('<src-and-dest...>', 'SRC... DEST')
    .option('-n, --no-clobber', 'do not overwrite an existing file')
    .option('-v, --verbose', 'explain what is being done')
    .action(async (args: string[], o) => {
      const { mv } = await import('./mv.js');
      code = await mv(args, { noClobber: o.clobber === false, verbose: !!o.verbose });
    });

  program
    .command('exports')
    .description("show a server's export list (MOUNT EXPORT), like showmount -e")
    .argument('<url-or-host...>')
    .action(async (targets: string[]) => {
      const { exportsCmd } = await import('./exports.js');
      code = await exportsCmd(targets);
    });

  program
    .command('status')
    .description('what a running server on this host is doing (exports, clients, LOCALIO, counters); --client URL: this host\'s LOCALIO state towards a server')
    .option('--port <n>', 'the server on this port (default: every server using the state directory)', port)
    .option('--state-dir <dir>', 'the state directory the server was started with')
    .option('--client <url>', 'connect as a client and show its LOCALIO state (exit 0 local, 3 not local)')
    .option('--json', 'JSON instead of tables')
    .action(async (o) => {
      const { status } = await import('./status.js');
      code = await status(o);
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

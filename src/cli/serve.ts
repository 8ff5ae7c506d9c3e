import fs from 'node:fs';
import path from 'node:path';
import { NfsServer, defaultExportEntry } from '../server/index.js';
import { log } from '../util/log.js';

export interface ServeOptions {
  exports?: string;
  port: number;
  host: string;
  portmap?: boolean;
  stateDir?: string;
  rtmax: number;
  wtmax: number;
  localio?: boolean;
  writeBehind?: boolean;
  directWrites?: boolean;
  spliceReads?: boolean;
  rendezvous?: string;
  metrics?: string;
  sameHostCc?: string;
  nfs4?: boolean;
  leaseTime?: number;
  graceTime?: number;
  idmapDomain?: string;
}

function urlHost(h: string): string {
  return h.includes(':') ? `[${h}]` : h;
}

/** `nfs-localio serve [DIR]`: run until SIGINT/SIGTERM, then shut down cleanly. */
export async function serve(dir: string | undefined, o: ServeOptions): Promise<number> {
  if (!dir && !o.exports) {
    process.stderr.write('nfs-localio serve: give a DIR to export or --exports FILE\n');
    return 2;
  }
  let exportsOpt;
  if (o.exports) {
    exportsOpt = { text: fs.readFileSync(o.exports, 'utf8'), source: o.exports };
  } else {
    const abs = path.resolve(dir!);
    if (!fs.statSync(abs, { throwIfNoEntry: false })?.isDirectory()) {
      process.stderr.write(`nfs-localio serve: ${dir}: not a directory\n`);
      return 2;
    }
    exportsOpt = [defaultExportEntry(abs)];
  }
  const server = await NfsServer.start({
    exports: exportsOpt,
    port: o.port,
    host: o.host,
    portmap: o.portmap,
    stateDir: o.stateDir,
    rtmax: o.rtmax,
    wtmax: o.wtmax,
    localio: o.localio,
    writeBehind: o.writeBehind,
    directWrites: o.directWrites,
    spliceReads: o.spliceReads,
    rendezvous: o.rendezvous,
    metrics: o.metrics,
    sameHostCongestion: o.sameHostCc === 'system' ? false : o.sameHostCc,
    nfs4: o.nfs4,
    leaseTime: o.leaseTime,
    graceTime: o.graceTime,
    idmapDomain: o.idmapDomain,
  });
  const id = server.identity;
  log.info('server.started', {
    address: `${server.host}:${server.port}`,
    portmap: server.portmapPort,
    identity: id.privileged ? 'root: AUTH_SYS identities enforced, files owned by callers' : `unprivileged: every caller acts as uid ${id.uid} gid ${id.gid} (all_squash to the server's user)`,
  });
  const h = urlHost(server.host);
  const p = server.port;
  for (const exp of server.exports.list()) {
    process.stdout.write(
      [
        `Serving ${exp.path} on ${server.host}:${p} (${server.nfs4 ? 'NFSv4.1, 4.2 and ' : ''}NFSv3, MOUNT v3 on the same port)`,
        `  libnfs:  nfs-ls 'nfs://${h}${exp.path}?version=3&nfsport=${p}&mountport=${p}'`,
        ...(server.nfs4 ? [`  Linux:   mount -t nfs -o vers=4.2,proto=tcp,port=${p} ${h}:${exp.path} /mnt   (or vers=4.1)`] : []),
        `  Linux:   mount -t nfs -o vers=3,proto=tcp,port=${p},mountport=${p},mountproto=tcp,nolock ${h}:${exp.path} /mnt`,
        `  Node:    import { connect } from 'nfs-localio'; const c = await connect('nfs://${h}${exp.path}?nfsport=${p}&mountport=${p}');`,
        '',
      ].join('\n'),
    );
  }
  const l = server.localioStatus();
  log.info('localio', l ? { state: 'on', crossProcess: l.crossProcess ? 'on' : `off: ${l.crossProcessReason}`, rendezvous: o.rendezvous } : { state: 'off' });
  if (!id.privileged) process.stdout.write(`Running unprivileged: every client acts as uid ${id.uid}, gid ${id.gid}.\n`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info('server.stopping', { signal: sig });
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await server.close();
  log.info('server.stopped');
  return 0;
}

#!/usr/bin/env node
// Builds the optional fd-passing addon (native/fdpass.c -> build/Release/nfs_localio_fdpass.node).
// Run by `npm install` (package.json "install" script). It must never fail the install:
// on any problem it prints one warning line and exits 0; LOCALIO then stays in-process only.
//
// Env: NFS_LOCALIO_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'nfs_localio_fdpass.node');

function skip(reason) {
  console.warn(
    `nfs-localio: native fd passing not built (${reason}); cross-process LOCALIO will be off, in-process LOCALIO still works`,
  );
  process.exit(0);
}

/** Candidate ways to run node-gyp, best first: [command, leading args, label]. */
function nodeGypCandidates() {
  const out = [];
  const seen = new Set();
  const addScript = (p) => {
    if (p && p.endsWith('.js') && existsSync(p) && !seen.has(p)) {
      seen.add(p);
      out.push([process.execPath, [p], p]);
    }
  };
  // npm sets this for lifecycle scripts; it points at the node-gyp bundled with npm.
  addScript(process.env.npm_config_node_gyp);
  // .../npm/bin/npm-cli.js -> .../npm/node_modules/node-gyp/bin/node-gyp.js
  if (process.env.npm_execpath) {
    addScript(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  // Run by hand (no npm env): the npm installed next to this node (<prefix>/lib/node_modules/npm).
  const prefix = resolve(dirname(process.execPath), '..');
  addScript(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  out.push(['npx', ['--no-install', 'node-gyp'], 'npx --no-install node-gyp']);
  out.push(['node-gyp', [], 'node-gyp on PATH']);
  return out;
}

function lastLine(text) {
  const lines = String(text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^gyp (info|ERR! (cwd|node -v|node-gyp -v|not ok|System|command))/.test(l));
  const err = lines.filter((l) => /error|ERR!/i.test(l));
  return (err[0] ?? lines.at(-1) ?? '').slice(0, 200);
}

function main() {
  if (process.env.NFS_LOCALIO_SKIP_NATIVE === '1') skip('NFS_LOCALIO_SKIP_NATIVE=1');
  if (process.platform !== 'linux') skip(`unsupported platform ${process.platform}`);
  if (!existsSync(join(root, 'binding.gyp')) || !existsSync(join(root, 'native', 'fdpass.c'))) {
    skip('native sources missing from the package');
  }

  const env = { ...process.env };
  const args = ['rebuild'];
  // Build offline against the headers of the running node when they are installed next to it
  // (/usr/bin/node -> /usr/include/node; official tarballs likewise), unless npm already set nodedir.
  const prefix = resolve(dirname(process.execPath), '..');
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
    args.push(`--nodedir=${prefix}`);
  }
  // The addon is plain C: link with the C compiler so no C++ toolchain is needed.
  env.LINK ??= env.CC ?? 'cc';

  let reason = '';
  for (const [cmd, pre, label] of nodeGypCandidates()) {
    const r = spawnSync(cmd, [...pre, ...args], { cwd: root, env, encoding: 'utf8', timeout: 300_000 });
    if (r.error) {
      // ENOENT: this way of running node-gyp does not exist here; try the next one.
      if (r.error.code === 'ENOENT') continue;
      reason = `${label}: ${r.error.message}`;
      break;
    }
    if (r.status === 0) {
      reason = 'ok';
      break;
    }
    const why = `${label} ${r.signal ? `killed by ${r.signal}` : `exited with ${r.status}`}: ${lastLine(r.stderr || r.stdout)}`;
    // npx --no-install also fails when node-gyp simply is not installed: try the next candidate.
    if (cmd === 'npx') {
      reason ||= why;
      continue;
    }
    reason = why;
    break;
  }
  if (reason !== 'ok') skip(reason || 'node-gyp not found');
  if (!existsSync(addon)) skip(`build produced no ${addon}`);

  // Make sure the result actually loads in this node.
  const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)}).peerCred`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (check.status !== 0) skip(`built addon does not load: ${lastLine(check.stderr)}`);
  console.log('nfs-localio: native fd passing built (build/Release/nfs_localio_fdpass.node)');
}

try {
  main();
} catch (e) {
  skip(e instanceof Error ? e.message : String(e));
}

/**
 * The TCP congestion control of same-host connections.
 *
 * Why: congestion control exists to share a network path; a connection from this host to itself
 * has none to share (loopback delivers each segment within the send call). Some algorithms pace
 * anyway: BBR, the system default on the machines we measure on (and on hosts tuned for WAN
 * throughput), asks the kernel to spread what it sends over its bandwidth estimate, and without
 * the fq qdisc (loopback has none) TCP does that itself with high-resolution timers. A request/response flow such as NFS
 * is mostly idle between replies, so BBR's estimate swings — `ss -ti` showed 30 Gbit/s and
 * 210 Gbit/s on the same kind of connection minutes apart — and a 1 MiB READ reply is sent in
 * timer-driven slices instead of at once. Measured with libnfs `nfs-cat` of a cached 1 GiB file,
 * 12 rounds alternating a server with this (reno), one without (BBR) and nfs-ganesha: 0.37–0.57 s,
 * 0.38–1.66 s and 0.55–1.59 s per copy (docs/benchmarks.md).
 *
 * So by default the server sets `reno` on connections from this host (every Linux allows reno to
 * unprivileged processes), leaving connections from elsewhere to the system's choice. The
 * algorithm is set on the server's socket only: it governs what the server sends (READ replies),
 * not what the client sends.
 */
import { isSameHost } from '../export/index.js';
import type { Peer } from '../rpc/index.js';
import { log } from '../util/log.js';

/** How setsockopt(TCP_CONGESTION) refuses a name: not allowed to this user, not in this kernel, too long. */
const REFUSALS = new Set(['EPERM', 'ENOENT', 'EINVAL']);

/** The addon's call: set (when `name` is given) and report the socket's congestion control. */
export type TcpCongestionCall = (fd: number, name?: string) => string;

export class SameHostCongestion {
  /** 'NAME' while in use; 'off: why' when not set (disabled, no addon, or the kernel refused). */
  state: string;
  /** The algorithm set on same-host connections; undefined once off. */
  private active: string | undefined;

  /** `name` false: leave every connection to the system's default. */
  constructor(
    private readonly call: TcpCongestionCall | undefined,
    name: string | false,
  ) {
    if (name === false) this.state = 'off: disabled';
    else if (call === undefined) this.state = 'off: needs the native addon';
    else this.state = this.active = name;
  }

  /**
   * For `tuneSocket`: set the algorithm on a same-host connection; the algorithm the connection
   * uses (undefined when unknown). A refusal of the name is logged once and stops further attempts.
   */
  tune(fd: number, peer: Peer, local: { address: string }): string | undefined {
    const { call, active } = this;
    if (call === undefined) return undefined;
    try {
      return active !== undefined && isSameHost(peer.address, local.address) ? call(fd, active) : call(fd);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // Anything but a refusal of the name (a socket already gone …) concerns this connection only.
      if (err.syscall !== 'setsockopt' || !REFUSALS.has(err.code ?? '')) return undefined;
      this.active = undefined;
      this.state = `off: the kernel refused ${active} (${err.code})`;
      log.warn('tcp.congestion.refused', { algorithm: active, code: err.code, effect: 'same-host connections keep the system default' });
      return this.tune(fd, peer, local);
    }
  }
}

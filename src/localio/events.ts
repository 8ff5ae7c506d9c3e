import diagnostics_channel from 'node:diagnostics_channel';

/**
 * Debug events of both sides of LOCALIO on one diagnostics_channel:
 * { side: 'client' | 'server', event: 'probe' | 'bind' | 'enable' | 'disable' | 'fallback' |
 *   'invalidate' | 'open' | 'unbind' | ..., ...details }.
 */
export const localioChannel = diagnostics_channel.channel('nfs-localio:localio');

export function publish(side: 'client' | 'server', event: string, details: Record<string, unknown> = {}): void {
  if (localioChannel.hasSubscribers) localioChannel.publish({ side, event, ...details });
}

/** Resolve after `ms` (unref'd), or when `p` settles first; true when `p` won. */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    t.unref();
    p.then(
      () => {
        clearTimeout(t);
        resolve(true);
      },
      () => {
        clearTimeout(t);
        resolve(true);
      },
    );
  });
}

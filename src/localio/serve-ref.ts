/**
 * The server's "serve reference" (knfsd's nfsd_net_ref, a percpu_ref):
 * every local open and local I/O takes a try-get; shutdown kills it first so
 * new local opens fail (ENXIO → the client goes back to the wire), then
 * waits — bounded — for the references still held to drain. A local client
 * therefore never pins a server that wants to stop.
 */
export class ServeRef {
  private count = 0;
  private dead = false;
  private waiters: Array<() => void> = [];

  tryGet(): boolean {
    if (this.dead) return false;
    this.count++;
    return true;
  }

  put(): void {
    if (this.count > 0) this.count--;
    if (this.count === 0 && this.waiters.length) for (const w of this.waiters.splice(0)) w();
  }

  get live(): boolean {
    return !this.dead;
  }

  get held(): number {
    return this.count;
  }

  kill(): void {
    this.dead = true;
  }

  /** Resolves true when every reference is put, false if `timeoutMs` passes first. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      t.unref();
      this.waiters.push(done);
    });
  }
}

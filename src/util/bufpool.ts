/**
 * A small pool of equal-sized buffers for the data path. A fresh 1 MiB
 * allocation is an mmap whose 256 pages fault in on first touch: measured
 * here, a 1 MiB pread into a fresh buffer took 270–570 µs, into a reused one
 * about 160 µs. READ replies and reassembled WRITE records are the two
 * places where that matters.
 *
 * The buffers are also page-aligned. Node's large buffers come from malloc,
 * which puts them 16 bytes past a page boundary, and the kernel copies file
 * data into a destination that is not cache-line aligned several times more
 * slowly: on the bench VM (AMD EPYC) a 1 MiB pread from the page cache took
 * 0.65–0.68 ms into a Buffer.allocUnsafeSlow and 0.13–0.14 ms into
 * page-aligned memory (same file, same loop; the same 5× in C with
 * posix_memalign + 16 vs + 0). Node has no aligned allocator, but a
 * WebAssembly.Memory starts on a page boundary by construction, so the pool
 * carves its buffers out of such memories ("slabs"), each slot a whole number
 * of 64 KiB wasm pages.
 *
 * Bounded: at most `max` buffers are carved (they always come back to the
 * pool); beyond that, or if a memory cannot be had, acquire() falls back to
 * plain buffers, of which at most `max` idle ones are kept.
 */
const WASM_PAGE = 65536;
/** Every memory any pool carved slots from: their first byte is on a page boundary. */
const slabMemories = new WeakSet<ArrayBuffer>();

/**
 * True when `buf` starts on a multiple of `align` bytes in memory (align ≤ 64 KiB), as far as we can
 * know: only memories a pool carved are known to be page-aligned; for any other buffer it says false.
 * What decides whether a buffer may go to direct I/O (O_DIRECT) without a copy.
 */
export function alignedTo(buf: Uint8Array, align: number): boolean {
  return slabMemories.has(buf.buffer as ArrayBuffer) && buf.byteOffset % align === 0;
}
/** Slots per memory: few memories (each reserves address space), yet no big up-front allocation. */
const SLAB_SLOTS = 8;

export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly slotBytes: number;
  /** The memories the slots live in, to recognise a slot on release. */
  private readonly slabs = new WeakSet<ArrayBuffer>();
  private slab: { mem: ArrayBuffer; next: number } | undefined;
  private carved = 0;
  private plainIdle = 0;

  constructor(
    readonly size: number,
    private readonly max = 32,
  ) {
    this.slotBytes = Math.ceil(size / WASM_PAGE) * WASM_PAGE;
  }

  /** A buffer of exactly `size` bytes (unzeroed), page-aligned unless the pool is exhausted. */
  acquire(): Buffer {
    const b = this.free.pop();
    if (b !== undefined) {
      if (!this.isSlot(b)) this.plainIdle--;
      return b;
    }
    return this.carve() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Give a buffer obtained from acquire() back. Never release one still in use. */
  release(buf: Buffer): void {
    if (buf.length !== this.size) return;
    if (this.isSlot(buf)) {
      this.free.push(buf);
    } else if (buf.byteOffset === 0 && this.plainIdle < this.max) {
      this.plainIdle++;
      this.free.push(buf);
    }
  }

  get idle(): number {
    return this.free.length;
  }

  private isSlot(buf: Buffer): boolean {
    return this.slabs.has(buf.buffer as ArrayBuffer) && buf.byteOffset % this.slotBytes === 0;
  }

  private carve(): Buffer | undefined {
    if (this.carved >= this.max) return undefined;
    let s = this.slab;
    if (s === undefined || s.next + this.slotBytes > s.mem.byteLength) {
      const pages = (Math.min(SLAB_SLOTS, this.max - this.carved) * this.slotBytes) / WASM_PAGE;
      try {
        s = { mem: new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, next: 0 };
      } catch {
        return undefined; // no memory to be had: plain buffers still work
      }
      this.slabs.add(s.mem);
      slabMemories.add(s.mem);
      this.slab = s;
    }
    const b = Buffer.from(s.mem, s.next, this.size);
    s.next += this.slotBytes;
    this.carved++;
    return b;
  }
}

// The last bytes each serial port printed, replayed to a display that attaches
// later, like a terminal's scrollback: a console opened after boot still shows the
// boot messages.
const KEEP_BYTES = 64 * 1024;

export class SerialBacklog {
  private readonly ports = new Map<number, Uint8Array[]>();
  private readonly sizes = new Map<number, number>();

  add(port: number, data: Uint8Array): void {
    const chunks = this.ports.get(port) ?? [];
    chunks.push(data.slice());
    let size = (this.sizes.get(port) ?? 0) + data.length;
    while (size > KEEP_BYTES && chunks.length > 1) size -= chunks.shift()!.length;
    this.ports.set(port, chunks);
    this.sizes.set(port, size);
  }

  /** One message per port with everything kept, oldest first. */
  replay(): { port: number; data: Uint8Array }[] {
    const out: { port: number; data: Uint8Array }[] = [];
    for (const [port, chunks] of this.ports) {
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let off = 0;
      for (const c of chunks) {
        all.set(c, off);
        off += c.length;
      }
      out.push({ port, data: all.subarray(Math.max(0, all.length - KEEP_BYTES)) });
    }
    return out;
  }
}

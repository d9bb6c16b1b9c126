// A disk whose backing image can be replaced while the machine runs (taking a
// snapshot of a running VM: the frozen image is closed and the guest continues on
// a new qcow2 overlay with the same contents). The IDE/virtio/BIOS code only sees
// the BlockDevice interface, so the engine needs no change: this proxy forwards
// every call to the current image. Swap only while the machine is not executing
// (between run slices, after a flush).
import type { BlockDevice } from '../../../engine/storage/block-device';
import type { OpenedImage } from '../storage/open-image';

export class SwappableDisk implements BlockDevice {
  constructor(
    private current: OpenedImage,
    /** "<bus>-<port>" of the attachment (see protocol/snapshots.ts attachmentKey). */
    readonly key: string,
  ) {}

  get image(): OpenedImage {
    return this.current;
  }
  get size(): number {
    return this.current.size;
  }
  get readOnly(): boolean {
    return this.current.readOnly;
  }
  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void {
    this.current.read(offset, into, intoOffset, length);
  }
  write(offset: number, data: Uint8Array): void {
    this.current.write(offset, data);
  }
  flush(): void {
    this.current.flush();
  }
  close(): void {
    this.current.close();
  }

  /** Continue on `next` (same size); returns the previous image, still open, for the caller to close. */
  swap(next: OpenedImage): OpenedImage {
    if (next.size !== this.current.size) throw new Error(`the new image of ${this.key} is ${next.size} bytes, the current one ${this.current.size}`);
    if (next.readOnly !== this.current.readOnly) throw new Error(`the new image of ${this.key} is not opened like the current one (read-only mismatch)`);
    const prev = this.current;
    this.current = next;
    return prev;
  }
}

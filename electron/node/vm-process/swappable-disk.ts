// A disk whose backing image can be replaced while the machine runs (taking a
// snapshot of a running VM: the frozen image is closed and the guest continues on
// a new qcow2 overlay with the same contents). The IDE/virtio/BIOS code only sees
// the BlockDevice interface, so the engine needs no change: this proxy forwards
// every call to the current image. Swap only while the machine is not executing
// (between run slices, after a flush).
//
// Deleting a snapshot of a running VM rewrites layers of the disk's chain on the host:
// the disk is then released (no image open, so nothing reads stale metadata or holds
// the write lock) until a swap reopens it. No guest code runs meanwhile; any access
// while released is a bug and throws.
import type { BlockDevice } from '../../../engine/storage/block-device';
import type { OpenedImage } from '../storage/open-image';

export class SwappableDisk implements BlockDevice {
  private current: OpenedImage | null;
  /** Fixed for the disk's life: a released disk still knows them, so a reopen can be checked. */
  readonly size: number;
  readonly readOnly: boolean;

  constructor(
    current: OpenedImage,
    /** "<bus>-<port>" of the attachment (see protocol/snapshots.ts attachmentKey). */
    readonly key: string,
  ) {
    this.current = current;
    this.size = current.size;
    this.readOnly = current.readOnly;
  }

  get released(): boolean {
    return this.current === null;
  }
  /** The open image (throws while released). */
  get image(): OpenedImage {
    if (!this.current) throw new Error(`the disk at ${this.key} is released while a snapshot is deleted; it has no open image`);
    return this.current;
  }
  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void {
    this.image.read(offset, into, intoOffset, length);
  }
  write(offset: number, data: Uint8Array): void {
    this.image.write(offset, data);
  }
  flush(): void {
    this.image.flush();
  }
  /** Power-off: close the image (a released disk has none). */
  close(): void {
    this.current?.close();
  }

  /** Close the image (flush, release the write lock) until swap() gives the disk a new one. */
  release(): void {
    const prev = this.current;
    if (!prev) return;
    this.current = null;
    prev.close();
  }

  /**
   * Continue on `next` (same size); returns the previous image, still open, for the caller
   * to close — or null when the disk was released.
   */
  swap(next: OpenedImage): OpenedImage | null {
    if (next.size !== this.size) throw new Error(`the new image of ${this.key} is ${next.size} bytes, the current one ${this.size}`);
    if (next.readOnly !== this.readOnly) throw new Error(`the new image of ${this.key} is not opened like the current one (read-only mismatch)`);
    const prev = this.current;
    this.current = next;
    return prev;
  }
}

// A bounded LRU cache of qcow2 L2 tables keyed by host offset. Dirty tables are written
// only by the image's metadata flush (which orders them after the refcounts they rely
// on), so eviction asks the image to flush first when the victim is dirty.
import type { FileHandle } from './file-handle';

export interface L2Table {
  offset: number;
  data: Uint8Array;
  view: DataView;
  dirty: boolean;
}

export class L2Cache {
  private readonly tables = new Map<number, L2Table>();
  private readonly capacity: number;

  constructor(
    private readonly file: FileHandle,
    private readonly clusterSize: number,
    /** Called when a dirty table must be evicted: must write every dirty table in order. */
    private readonly flushDirty: () => void,
    budgetBytes = 16 * 1024 * 1024,
  ) {
    this.capacity = Math.max(4, Math.floor(budgetBytes / clusterSize));
  }

  /** The table at host `offset`, read from the file on a miss. */
  get(offset: number): L2Table {
    const t = this.tables.get(offset);
    if (t) {
      if (this.tables.size > 1) {
        this.tables.delete(offset);
        this.tables.set(offset, t);
      }
      return t;
    }
    const data = new Uint8Array(this.clusterSize);
    if (offset + this.clusterSize > this.file.size()) throw new Error(`L2 table at ${offset} lies outside the file`);
    this.file.read(offset, data, 0, this.clusterSize);
    return this.add(offset, data, false);
  }

  /** Install a freshly allocated table (zeroed or copied), dirty. */
  add(offset: number, data: Uint8Array, dirty = true): L2Table {
    if (this.tables.size >= this.capacity) {
      const victim = this.tables.values().next().value as L2Table;
      if (victim.dirty) this.flushDirty();
      this.tables.delete(victim.offset);
    }
    const t: L2Table = { offset, data, view: new DataView(data.buffer, data.byteOffset, data.byteLength), dirty };
    this.tables.set(offset, t);
    return t;
  }

  hasDirty(): boolean {
    for (const t of this.tables.values()) if (t.dirty) return true;
    return false;
  }

  /** Write every dirty table. Returns whether anything was written. */
  writeDirty(): boolean {
    let wrote = false;
    for (const t of this.tables.values()) {
      if (!t.dirty) continue;
      this.file.write(t.offset, t.data);
      t.dirty = false;
      wrote = true;
    }
    return wrote;
  }
}

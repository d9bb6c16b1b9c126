// Shared types for the VGA renderers: the host's RGBA target and dirty-rectangle accumulation.

/** What the host hands to `Vga.render`: RGBA bytes, row-major, `width * height * 4` long. */
export interface RenderTarget {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Union of changed rectangles during one render pass. */
export class DirtyBox {
  x0 = Infinity;
  y0 = Infinity;
  x1 = -Infinity;
  y1 = -Infinity;

  add(x: number, y: number, w: number, h: number): void {
    if (w <= 0 || h <= 0) return;
    if (x < this.x0) this.x0 = x;
    if (y < this.y0) this.y0 = y;
    if (x + w > this.x1) this.x1 = x + w;
    if (y + h > this.y1) this.y1 = y + h;
  }

  get empty(): boolean {
    return this.x1 <= this.x0;
  }

  rect(): Rect | null {
    return this.empty ? null : { x: this.x0, y: this.y0, width: this.x1 - this.x0, height: this.y1 - this.y0 };
  }
}

/** Where a renderer writes: a Uint32 view of the target (one RGBA word per pixel) and the clip size. */
export interface Surface {
  pixels: Uint32Array;
  stride: number;
  /** Drawable area: the intersection of the mode size and the target size. */
  width: number;
  height: number;
}

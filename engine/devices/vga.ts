// The display adapter: a standard VGA (ports 0x3B0-0x3DF, legacy window 0xA0000-0xBFFFF)
// plus the Bochs VBE DISPI extension with a linear framebuffer — QEMU's "stdvga",
// PCI 1234:1111, which SeaBIOS's vgabios-stdvga.bin and Linux's bochs-drm/vesafb drive.
//
// Pieces: vga-registers.ts (register file, geometry), vga-memory.ts (VRAM and the planar
// CPU access path), vga-palette.ts (DAC), vga-text.ts / vga-planar.ts (scan-out),
// vga-bochs-dispi.ts (VBE registers, LFB), vga-modes.ts (standard mode register sets).
//
// Host API (no timers: the host calls render() at its own frame rate):
//   const vga = new Vga(ctx, { vramSize, romImage });
//   pciBus.attach(2, 0, vga);               // PCI machines: BAR0 = LFB, BAR2 = QEMU MMIO, ROM = romImage
//   vga.setLinearFramebufferBase(0xE0000000) // machines without PCI (Bochs' fixed LFB address)
//   vga.render({ width, height, data })      // draws changed parts, emits 'display-dirty', returns the rect
//   vga.getTextScreen()                      // text mode contents, or firmware-reported text in graphics
//   vga.setShadowText(rows)                  // firmware: text it drew with INT 10h in a graphics mode
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { MmioHandler } from '../machine/physical-memory';
import type { MachineEvents } from '../machine/events';
import type { DeviceContext } from './device-context';
import { PciConfigSpace, type PciFunction } from './pci-bus';
import { DisplayKind, VgaRegisters } from './vga-registers';
import { DIRTY_SHIFT, VgaMemory } from './vga-memory';
import { VgaDac } from './vga-palette';
import { VgaTextRenderer } from './vga-text';
import { VgaGraphicsRenderer } from './vga-planar';
import { BochsDispi, DISPI_8BIT_DAC, makeLfbHandler } from './vga-bochs-dispi';
import { DirtyBox, type Rect, type RenderTarget, type Surface } from './vga-surface';
import { VGA_MODES } from './vga-modes';
import { CP437 } from './vga-cp437';
import { makeQemuMmio } from './vga-pci-mmio';

export type { RenderTarget, Rect } from './vga-surface';

export interface VgaOptions {
  /** VRAM in bytes: a power of two from 1 MiB to 256 MiB. Default 16 MiB (enough for 2560×1600×32). */
  vramSize?: number;
  /** PCI expansion ROM image (e.g. /usr/share/seabios/vgabios-stdvga.bin) for firmware that runs option ROMs. */
  romImage?: Uint8Array;
  /** Offer BAR2, QEMU's 4 KiB MMIO window (VGA ports, DISPI registers, byte order). Default true. */
  mmioBar?: boolean;
}

export type DisplayMode = MachineEvents['display-mode'];

/** 60 Hz with 525 lines per frame (VGA 640×480 timing): drives input status 1. */
const FRAME_NS = 1e9 / 60;
const LINE_NS = FRAME_NS / 525;
const LINE_ACTIVE_NS = LINE_NS * 0.8;
/** Extra time per input-status read when the clock has not moved, so busy-wait loops always progress. */
const STATUS_POLL_STEP_NS = 10_000;

const LEGACY_BASE = 0xa0000;
const LEGACY_SIZE = 0x20000;

/** Registers whose change alters what is on screen (as opposed to how the CPU accesses memory). */
const SEQ_DISPLAY = 0b0000_1010; // SR1 clocking (dots/char, screen off), SR3 character maps
const GR_DISPLAY = 0b0110_0000; // GR5 (shift modes), GR6 (graphics/alpha)

export class Vga implements Snapshottable, PciFunction {
  readonly stateId = 'vga';
  readonly stateVersion = 1;
  readonly pci: PciConfigSpace;
  readonly regs = new VgaRegisters();
  readonly dac = new VgaDac();
  readonly mem: VgaMemory;
  readonly dispi: BochsDispi;
  readonly vramSize: number;

  private readonly textRenderer = new VgaTextRenderer();
  private readonly graphicsRenderer = new VgaGraphicsRenderer();
  private readonly legacyHandler: MmioHandler;
  private readonly lfbHandler: MmioHandler;
  private lfbBase: number | null = null;
  private shadowText: string[] | null = null;

  /** Display-affecting registers changed: re-evaluate the mode and redraw everything. */
  private layoutDirty = true;
  /** Cursor shape or position changed (text mode redraws the affected cells). */
  private cursorDirty = true;
  private mode: DisplayMode | null = null;
  private lastTarget: Uint8ClampedArray | null = null;
  private lastTargetWidth = 0;
  private lastTargetHeight = 0;
  private lastDacVersion = -1;
  private lastBlink = -1;
  private scratch: Uint32Array | null = null;
  private statusSkewNs = 0;
  private lastStatusNs = -1;

  constructor(
    private readonly ctx: DeviceContext,
    options: VgaOptions = {},
  ) {
    let size = options.vramSize ?? 16 * 1024 * 1024;
    if (!(size >= 1 << 20 && size <= 1 << 28 && (size & (size - 1)) === 0)) {
      // A configuration error, not guest behaviour: fall back rather than refuse to build the machine.
      logGuestError('vga', 'vram-size', `VRAM size ${size} is not a power of two in 1..256 MiB; using 16 MiB`);
      size = 16 * 1024 * 1024;
    }
    this.vramSize = size;
    this.mem = new VgaMemory(size, this.regs);
    this.dispi = new BochsDispi(this.mem, () => this.onDispiChange());
    this.lfbHandler = makeLfbHandler(this.mem);
    this.legacyHandler = {
      read8: (o) => this.legacyRead(o),
      write8: (o, v) => this.legacyWrite(o, v),
    };

    this.pci = new PciConfigSpace('vga', {
      vendorId: 0x1234,
      deviceId: 0x1111,
      classCode: 0x030000,
      revision: 0x02,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      bars: [
        { kind: 'mem', size, prefetchable: true, onMap: (base) => this.setLinearFramebufferBase(base) },
        undefined,
        options.mmioBar === false
          ? undefined
          : {
              kind: 'mem',
              size: 4096,
              mmio: makeQemuMmio({
                portRead: (p) => this.portRead(p),
                portWrite: (p, v) => this.portWrite(p, v),
                dispi: this.dispi,
              }),
            },
      ],
      rom: options.romImage,
    });

    const io = ctx.io;
    // Only the ports a VGA decodes (as QEMU registers them): 0x3BC-0x3BF is LPT1 on many machines.
    const ports = { read8: (p: number) => this.portRead(p), write8: (p: number, v: number) => this.portWrite(p, v) };
    for (const [first, count] of [[0x3b4, 2], [0x3ba, 1], [0x3c0, 16], [0x3d4, 2], [0x3da, 1]]) io.register(first, count, ports);
    // DISPI: 16-bit registers; byte accesses go to the low byte (Bochs accepts both).
    io.register(0x1ce, 2, {
      read8: (p) => (p === 0x1ce ? this.dispi.index : this.dispi.readData()) & 0xff,
      write8: (p, v) => this.dispiWrite(p, v),
      read16: (p) => (p === 0x1ce ? this.dispi.index : this.dispi.readData()),
      write16: (p, v) => this.dispiWrite(p, v),
    });
    ctx.mem.mapMmio(LEGACY_BASE, LEGACY_SIZE, this.legacyHandler);
    this.powerOn();
  }

  /** Power-on register state: mode 3 timing, so the host sees a sane 720×400 text screen before the BIOS runs. */
  private powerOn(): void {
    const t = VGA_MODES[0x03];
    const r = this.regs;
    r.misc = t.misc;
    r.seq.fill(0);
    r.seq[0] = 0x03;
    t.seq.forEach((v, i) => (r.seq[i + 1] = v));
    r.crtc.fill(0);
    r.crtc.set(t.crtc);
    r.attr.fill(0);
    r.attr.set(t.attr);
    r.gr.fill(0);
    r.gr.set(t.gr);
    // PAS set: whatever is programmed shows (black until VRAM and the DAC are loaded), so firmware
    // that goes straight to a VBE mode without touching the attribute controller is still visible.
    r.attrIndex = 0x20;
    r.attrFlipFlop = false;
    this.layoutDirty = true;
  }

  /** Machine reset: registers to power-on, VBE off, VRAM cleared. The PCI bus resets the config space. */
  reset(): void {
    this.powerOn();
    this.dispi.reset();
    this.dac.entries.fill(0);
    this.dac.pelMask = 0xff;
    this.dac.setEightBit(false);
    this.dac.version++;
    this.mem.vram.fill(0);
    this.mem.markAllDirty();
    this.shadowText = null;
    this.lastDispiSignature = '';
    this.cursorDirty = true;
  }

  // ---------------------------------------------------------------- ports

  private crtcPortBase(): number {
    return this.regs.colorIo ? 0x3d0 : 0x3b0;
  }

  private portRead(port: number): number {
    const r = this.regs;
    // CRTC and input status 1 answer only at the address selected by misc bit 0.
    if ((port >= 0x3b0 && port < 0x3c0) || port >= 0x3d0) {
      const rel = port - this.crtcPortBase();
      if (rel < 0 || rel >= 0x10) return 0xff;
      if (rel === 0x4) return r.crtcIndex;
      if (rel === 0x5) return r.crtc[r.crtcIndex];
      if (rel === 0xa) return this.inputStatus1();
      return 0xff;
    }
    switch (port) {
      case 0x3c0: return r.attrIndex;
      case 0x3c1: {
        const i = r.attrIndex & 0x1f;
        return i <= 0x14 ? r.attr[i] : 0;
      }
      case 0x3c2: return 0x10; // input status 0: switch sense high (a colour monitor is attached)
      case 0x3c3: return 0x01; // video subsystem enabled
      case 0x3c4: return r.seqIndex;
      case 0x3c5: return r.seqIndex <= 4 ? r.seq[r.seqIndex] : 0xff;
      case 0x3c6: return this.dac.pelMask;
      case 0x3c7: return this.dac.state();
      case 0x3c8: return this.dac.writeIndex;
      case 0x3c9: return this.dac.readData();
      case 0x3ca: return r.featureControl;
      case 0x3cc: return r.misc;
      case 0x3ce: return r.grIndex;
      case 0x3cf: return r.grIndex <= 8 ? r.gr[r.grIndex] : 0xff;
      default: return 0xff;
    }
  }

  private portWrite(port: number, v: number): void {
    const r = this.regs;
    if ((port >= 0x3b0 && port < 0x3c0) || port >= 0x3d0) {
      const rel = port - this.crtcPortBase();
      if (rel === 0x4) r.crtcIndex = v;
      else if (rel === 0x5) this.crtcWrite(r.crtcIndex, v);
      else if (rel === 0xa) r.featureControl = v;
      return;
    }
    switch (port) {
      case 0x3c0:
        if (!r.attrFlipFlop) {
          if ((v ^ r.attrIndex) & 0x20) this.layoutDirty = true;
          r.attrIndex = v & 0x3f;
        } else {
          const i = r.attrIndex & 0x1f;
          if (i <= 0x14) {
            const masked = i < 0x10 ? v & 0x3f : i === 0x14 ? v & 0x0f : v;
            if (masked !== r.attr[i]) {
              r.attr[i] = masked;
              this.layoutDirty = true;
            }
          } else logGuestError('vga', 'attr-index', `write to attribute register 0x${i.toString(16)}`);
        }
        r.attrFlipFlop = !r.attrFlipFlop;
        return;
      case 0x3c2:
        if ((v ^ r.misc) & 1) this.layoutDirty = true;
        r.misc = v;
        return;
      case 0x3c3: return;
      case 0x3c4: r.seqIndex = v & 0x07; return;
      case 0x3c5: {
        const i = r.seqIndex;
        if (i > 4) {
          logGuestError('vga', 'seq-index', `write to sequencer register ${i}`);
          return;
        }
        if (v !== r.seq[i] && (SEQ_DISPLAY >> i) & 1) this.layoutDirty = true;
        // Synchronous reset starts every BIOS mode set: text the firmware drew on the old screen is gone.
        if (i === 0 && (v & 0x02) === 0) this.shadowText = null;
        r.seq[i] = v;
        return;
      }
      case 0x3c6: this.dac.setPelMask(v); return;
      case 0x3c7: this.dac.setReadIndex(v); return;
      case 0x3c8: this.dac.setWriteIndex(v); return;
      case 0x3c9: this.dac.writeData(v); return;
      case 0x3ce: r.grIndex = v & 0x0f; return;
      case 0x3cf: {
        const i = r.grIndex;
        if (i > 8) {
          logGuestError('vga', 'gr-index', `write to graphics register ${i}`);
          return;
        }
        if (i === 6 && (v ^ r.gr[6]) & 1) this.shadowText = null; // text/graphics switch: firmware text is stale
        if (v !== r.gr[i] && (GR_DISPLAY >> i) & 1) this.layoutDirty = true;
        r.gr[i] = v;
        return;
      }
      default:
        return;
    }
  }

  private crtcWrite(i: number, v: number): void {
    const c = this.regs.crtc;
    // CR11 bit 7 write-protects CR0-CR7, except the line compare bit 8 in CR07.
    if (i <= 7 && c[0x11] & 0x80) {
      if (i === 7) v = (c[7] & ~0x10) | (v & 0x10);
      else return;
    }
    if (i > 0x18) logGuestError('vga', 'crtc-index', `write to CRTC register 0x${i.toString(16)}`);
    if (c[i] === v) return;
    c[i] = v;
    if (i >= 0x0a && i <= 0x0b) this.cursorDirty = true;
    else if (i === 0x0e || i === 0x0f) this.cursorDirty = true;
    else if (i <= 0x18) this.layoutDirty = true;
  }

  /** Input status 1: resets the attribute flip-flop; retrace bits follow a 60 Hz virtual-time raster. */
  private inputStatus1(): number {
    this.regs.attrFlipFlop = false;
    const now = this.ctx.clock.nowNs();
    if (now === this.lastStatusNs) this.statusSkewNs += STATUS_POLL_STEP_NS;
    this.lastStatusNs = now;
    const t = (now + this.statusSkewNs) % FRAME_NS;
    const line = Math.floor(t / LINE_NS);
    const vretrace = line >= 490 && line < 492;
    const blank = line >= 480 || t - line * LINE_NS >= LINE_ACTIVE_NS;
    return (vretrace ? 0x08 : 0) | (blank ? 0x01 : 0);
  }

  private dispiWrite(port: number, v: number): void {
    if (port === 0x1ce) this.dispi.index = v & 0xffff;
    else this.dispi.writeData(v);
  }

  private onDispiChange(): void {
    this.dac.setEightBit(this.dispi.enabled && (this.dispi.regs[4] & DISPI_8BIT_DAC) !== 0);
    // A VBE mode switch replaces the screen: text the firmware reported for the old one is stale.
    const sig = this.dispiSignature();
    if (sig !== this.lastDispiSignature) this.shadowText = null;
    this.lastDispiSignature = sig;
    this.layoutDirty = true;
  }

  private lastDispiSignature = '';
  private dispiSignature(): string {
    return this.dispi.enabled ? `${this.dispi.xres}x${this.dispi.yres}x${this.dispi.bpp}` : '';
  }

  // ---------------------------------------------------------------- memory

  private legacyRead(o: number): number {
    if (this.dispi.enabled) {
      if (o >= 0x10000) return 0xff;
      return this.mem.vram[(this.dispi.bank << 16) + o];
    }
    return this.mem.read(o);
  }

  private legacyWrite(o: number, v: number): void {
    if (this.dispi.enabled) {
      // VBE banked window: 64 KiB at 0xA0000, bank granularity 64 KiB.
      if (o >= 0x10000) return;
      const a = (this.dispi.bank << 16) + o;
      this.mem.vram[a] = v;
      this.mem.dirty[a >>> DIRTY_SHIFT] = 1;
      this.mem.anyDirty = true;
      return;
    }
    this.mem.write(o, v);
  }

  /**
   * Map (or, with null, unmap) the linear framebuffer at a physical address. PCI machines get this
   * from BAR0 automatically; machines without PCI call it once (DISPI_DEFAULT_LFB_ADDRESS).
   */
  setLinearFramebufferBase(addr: number | null): void {
    if (this.lfbBase !== null) this.ctx.mem.unmapMmio(this.lfbHandler);
    this.lfbBase = addr === null ? null : addr >>> 0;
    if (this.lfbBase !== null) this.ctx.mem.mapMmio(this.lfbBase, this.vramSize, this.lfbHandler);
  }

  get linearFramebufferBase(): number | null {
    return this.lfbBase;
  }

  // ---------------------------------------------------------------- display

  /** Current display mode; emits 'display-mode' when it differs from the last one reported. */
  updateDisplayMode(): DisplayMode {
    if (!this.layoutDirty && this.mode) return this.mode;
    let mode: DisplayMode;
    if (this.dispi.enabled) {
      mode = { mode: 'graphics', width: this.dispi.xres, height: this.dispi.yres };
    } else {
      const g = this.regs.geometry();
      mode =
        g.kind === DisplayKind.Text
          ? { mode: 'text', width: g.width, height: g.height, cols: g.cols, rows: g.rows }
          : { mode: 'graphics', width: g.width, height: g.height };
    }
    const m = this.mode;
    if (!m || m.mode !== mode.mode || m.width !== mode.width || m.height !== mode.height || m.cols !== mode.cols || m.rows !== mode.rows) {
      this.mode = mode;
      this.ctx.events.emit('display-mode', mode);
    }
    return this.mode!;
  }

  /**
   * Draw the screen into `target` (RGBA, row-major; 4-byte aligned `data` is fastest). Only what
   * changed since the previous call is redrawn when the same target is passed again; a new or
   * resized target gets a full frame. The mode size is `updateDisplayMode()`: size the target to it
   * (a 'display-mode' listener may replace `target.data/width/height` — they are read afterwards).
   * Emits 'display-dirty' with the union of redrawn rectangles and returns it (null: nothing changed).
   */
  render(target: RenderTarget): Rect | null {
    const mode = this.updateDisplayMode();
    const data = target.data;
    const tw = Math.max(0, Math.floor(target.width));
    const th = Math.max(0, Math.min(Math.floor(target.height), Math.floor(data.length / 4 / Math.max(1, tw))));
    const aligned = (data.byteOffset & 3) === 0;
    let pixels: Uint32Array;
    if (aligned) pixels = new Uint32Array(data.buffer, data.byteOffset, tw * th);
    else {
      // Unaligned host buffer: draw into a private frame and copy it out (full frames only).
      if (!this.scratch || this.scratch.length !== tw * th) this.scratch = new Uint32Array(tw * th);
      pixels = this.scratch;
    }
    const force =
      this.layoutDirty ||
      !aligned ||
      data !== this.lastTarget ||
      tw !== this.lastTargetWidth ||
      th !== this.lastTargetHeight ||
      this.dac.version !== this.lastDacVersion;
    const s: Surface = { pixels, stride: tw, width: Math.min(mode.width, tw), height: Math.min(mode.height, th) };
    const dirty = new DirtyBox();
    if (force) {
      // Areas of the target outside the mode are cleared once so stale pixels never show.
      if (tw > s.width || th > s.height) {
        pixels.fill(0xff000000);
        dirty.add(0, 0, tw, th);
      }
    }
    const blink = Math.floor(this.ctx.clock.nowNs() / FRAME_NS) >> 3;
    const g = this.dispi.enabled ? null : this.regs.geometry();
    // Palette address source clear blanks VBE modes too (QEMU does the same; bochs-drm blanks that way).
    const blanked = g ? g.blanked : (this.regs.attrIndex & 0x20) === 0;
    if (blanked) {
      if (force) {
        for (let y = 0; y < s.height; y++) pixels.fill(0xff000000, y * tw, y * tw + s.width);
        dirty.add(0, 0, s.width, s.height);
        this.textRenderer.invalidate();
      }
    } else if (!g) {
      this.dispi.render(this.dac.rgba(), s, force, dirty);
    } else if (g.kind === DisplayKind.Text) {
      if (force || this.mem.fontDirty) this.textRenderer.invalidate();
      if (force || this.mem.anyDirty || this.cursorDirty || blink !== this.lastBlink) {
        // Cursor blinks every 8 frames, blinking characters every 16 (VGA: 1/16 and 1/32 of vsync).
        this.textRenderer.render(this.regs, g, this.mem.vram, this.dac.rgba(), s, (blink & 2) === 0, (blink & 1) === 0, dirty);
      }
    } else {
      this.graphicsRenderer.render(this.regs, g, this.mem, this.dac.rgba(), s, force, dirty);
    }
    if (!aligned) new Uint8Array(data.buffer, data.byteOffset, tw * th * 4).set(new Uint8Array(pixels.buffer, 0, tw * th * 4));
    this.mem.clearDirty();
    this.layoutDirty = false;
    this.cursorDirty = false;
    this.lastBlink = blink;
    this.lastTarget = data;
    this.lastTargetWidth = tw;
    this.lastTargetHeight = th;
    this.lastDacVersion = this.dac.version;
    const rect = dirty.rect();
    if (rect) this.ctx.events.emit('display-dirty', rect);
    return rect;
  }

  /**
   * The screen as text: rows joined by "\n", trailing spaces trimmed, CP437 mapped to Unicode.
   * In graphics modes this is what the firmware reported through setShadowText (or '').
   */
  getTextScreen(): string {
    if (this.dispi.enabled || this.regs.graphicsMode) {
      return this.shadowText ? this.shadowText.map((l) => l.trimEnd()).join('\n') : '';
    }
    return VgaTextRenderer.text(this.regs, this.regs.geometry(), this.mem.vram);
  }

  /**
   * Firmware hook: the text the BIOS has drawn on a graphics-mode screen (INT 10h teletype /
   * write-character in modes 4-13h or VBE modes), one string per text row, so getTextScreen()
   * works there too. Pass null when the screen no longer holds firmware text. Cleared
   * automatically on a mode set (sequencer synchronous reset, text/graphics switch in GR6,
   * VBE mode change); the firmware reports again as it draws.
   */
  setShadowText(rows: string[] | null): void {
    this.shadowText = rows ? rows.slice() : null;
  }

  /**
   * Firmware hook, per character: the BIOS drew CP437 character `ch` at text cell (col, row) of a
   * graphics screen (wire BiosConfig.vga.onGraphicsText to this). Builds the shadow text row by row.
   */
  shadowPutChar(col: number, row: number, ch: number): void {
    if (col < 0 || row < 0 || col > 255 || row > 255) return;
    const rows = (this.shadowText ??= []);
    while (rows.length <= row) rows.push('');
    const line = rows[row].padEnd(col + 1, ' ');
    rows[row] = line.slice(0, col) + CP437[ch & 0xff] + line.slice(col + 1);
  }

  /**
   * Firmware hook: the BIOS scrolled text rows top..bottom of a graphics screen by `lines`
   * (positive: up, as INT 10h AH=06h; negative: down; 0: clear the window).
   */
  shadowScroll(lines: number, top: number, bottom: number): void {
    const rows = this.shadowText;
    if (!rows || top > bottom || top < 0) return;
    bottom = Math.min(bottom, 255);
    while (rows.length <= bottom) rows.push('');
    const height = bottom - top + 1;
    const n = lines === 0 || Math.abs(lines) >= height ? height : Math.abs(lines);
    const window = rows.slice(top, bottom + 1);
    const blank = new Array<string>(n).fill('');
    const moved = lines >= 0 ? [...window.slice(n), ...blank] : [...blank, ...window.slice(0, height - n)];
    rows.splice(top, height, ...moved);
  }

  // ---------------------------------------------------------------- state

  saveState(): ComponentState {
    return {
      regs: this.regs.saveState(),
      dac: this.dac.saveState(),
      dispi: this.dispi.saveState(),
      vram: this.mem.vram,
      latch: this.mem.latch,
      pci: this.pci.saveState(),
      lfbBase: this.lfbBase,
      shadowText: this.shadowText ? this.shadowText.slice() : null,
      statusSkewNs: this.statusSkewNs,
    };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    const vram = s.vram as Uint8Array;
    if (vram.length !== this.vramSize) throw new Error(`saved VRAM is ${vram.length} bytes, adapter has ${this.vramSize}`);
    this.regs.loadState(s.regs as ComponentState);
    this.dac.loadState(s.dac as ComponentState);
    this.dispi.loadState(s.dispi as ComponentState);
    this.mem.vram.set(vram);
    this.mem.latch = (s.latch as number) >>> 0;
    this.mem.markAllDirty();
    this.shadowText = (s.shadowText as string[] | null)?.slice() ?? null;
    this.statusSkewNs = s.statusSkewNs as number;
    this.lastDispiSignature = this.dispiSignature();
    if (this.pci.bus) this.pci.loadState(s.pci as ComponentState);
    else {
      this.pci.bytes.set((s.pci as ComponentState).bytes as Uint8Array);
      this.setLinearFramebufferBase(s.lfbBase as number | null);
    }
    this.layoutDirty = true;
    this.cursorDirty = true;
  }
}

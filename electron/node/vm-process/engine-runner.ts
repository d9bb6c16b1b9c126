// Runs one Machine inside the VM process: the realtime run loop (slices of guest
// execution interleaved with the event loop so input and commands are handled),
// frames of the changed screen area at up to 30 fps, the text screen, serial
// output, statistics, and the VM commands (pause, reset, input...).
import { Machine, type MachineState } from '../../../engine/machine/machine';
import { setLogSink } from '../../../engine/common/log';
import type { FromVm, ToVm } from '../../../protocol/vm-process';
import type { VmConfig } from '../../../protocol/vm-config';
import { scanBytes, comboBytes } from '../../../protocol/keycodes';
import { encodePng } from '../../../cli/png';
import { machineConfigFor } from './machine-from-config';
import { CdChanger } from './cd-changer';
import { openDiskImage, type OpenedImage } from '../storage/open-image';
import type { SwappableDisk } from './swappable-disk';
import { readStateFile, writeStateFile } from '../snapshots/state-file';
import { sameFile } from '../storage/same-file';

/** How long one turn of the run loop may execute guest code before yielding to the event loop. */
const TURN_MS = 12;
const FRAME_INTERVAL_MS = 1000 / 30;
/**
 * Flow control for frames (like VNC's update requests): a display acknowledges each frame
 * it has painted, and at most MAX_UNACKED_FRAMES are in flight. A slow display (or a busy
 * link) then gets fewer, coalesced frames instead of an ever-growing queue. Without acks
 * (no display attached, or one that lost a message) frames continue at ACK_TIMEOUT_MS.
 */
const MAX_UNACKED_FRAMES = 2;
const ACK_TIMEOUT_MS = 1000;
const TEXT_INTERVAL_MS = 250;
const THUMBNAIL_INTERVAL_MS = 3000;
const THUMBNAIL_WIDTH = 160;
/** How long a VM process that has ended waits for its last message to leave before it exits anyway. */
export const EXIT_FALLBACK_MS = 5000;

export class EngineRunner {
  private readonly machine: Machine;
  private readonly devices: { close(): void }[];
  private readonly swappable: SwappableDisk[];
  /** Held still for a snapshot (snapshot-freeze … snapshot-thaw): no guest code runs. */
  private frozen = false;
  private running = false;
  private cdChanger: CdChanger | null = null;
  private paused = false;
  private timer: NodeJS.Timeout | null = null;
  private turnGeneration = 0;
  private frame = { width: 0, height: 0, data: new Uint8ClampedArray(0) };
  private lastFrameAt = 0;
  private unackedFrames = 0;
  private lastAckAt = 0;
  private lastTextAt = 0;
  private lastText = '';
  private framesSent = 0;
  private statsAt = performance.now();
  private statsInstructions = 0;
  private statsFrames = 0;
  private readonly startedAt = performance.now();
  private forceFullFrame = true;
  private lastThumbAt = 0;
  private screenChangedSinceThumb = true;

  constructor(
    readonly vm: VmConfig,
    vmDir: string,
    private readonly emit: (m: FromVm, delivered?: () => void) => void,
    /** Resume this saved machine (an online snapshot) instead of a cold boot. */
    restoreStateFile?: string,
  ) {
    setLogSink((level, source, message) => {
      if (level !== 'debug') emit({ type: 'log', level, source: source.slice(0, 64), message: message.slice(0, 4096) });
    });
    const opened = machineConfigFor(vm, vmDir);
    this.devices = opened.devices;
    this.swappable = opened.swappable;
    if (restoreStateFile) {
      try {
        this.machine = Machine.restore(opened.config, readStateFile(restoreStateFile) as MachineState);
      } catch (e) {
        for (const d of this.devices) d.close();
        throw new Error(`The saved machine state ${restoreStateFile} cannot be restored: ${(e as Error).message}`);
      }
    } else this.machine = new Machine(opened.config);
    const m = this.machine;
    m.events.on('serial-output', ({ port, data }) => emit({ type: 'serial-output', port, data: data.slice() }));
    m.events.on('storage-activity', ({ device, kind }) => emit({ type: 'activity', device, kind }));
    m.events.on('display-mode', (mode) => {
      this.frame = { width: mode.width, height: mode.height, data: new Uint8ClampedArray(mode.width * mode.height * 4) };
      this.forceFullFrame = true;
      emit({ type: 'display-mode', mode: mode.mode, width: mode.width, height: mode.height });
    });
    m.events.on('power-off', ({ reason }) => this.stop(`guest powered off (${reason})`));
  }

  start(): void {
    this.running = true;
    // A restored machine may already be in any display mode: tell the displays.
    const mode = this.machine.vga.updateDisplayMode();
    this.emit({ type: 'display-mode', mode: mode.mode, width: mode.width, height: mode.height });
    this.emit({ type: 'state', state: 'running' });
    this.schedule(0);
  }

  command(m: ToVm): void {
    const machine = this.machine;
    switch (m.type) {
      case 'pause':
        if (this.running && !this.paused) {
          this.paused = true;
          this.emit({ type: 'state', state: 'paused' });
        }
        break;
      case 'resume':
        if (this.running && this.paused) {
          this.paused = false;
          if (!this.frozen) {
            this.emit({ type: 'state', state: 'running' });
            this.schedule(0);
          }
        }
        break;
      case 'reset':
        machine.reset();
        this.forceFullFrame = true;
        break;
      case 'acpi-shutdown':
        if (machine.acpiPm) machine.acpiPm.pressPowerButton();
        else this.emit({ type: 'log', level: 'warn', source: 'vm', message: 'This machine has no ACPI (isapc chipset): use Power Off.' });
        break;
      case 'power-off':
        this.stop('powered off by the user');
        break;
      case 'key': {
        const bytes = scanBytes(m.code, m.down);
        if (bytes) machine.keyboardInput(bytes);
        break;
      }
      case 'key-combo':
        machine.keyboardInput(comboBytes(m.combo));
        break;
      case 'mouse':
        machine.mouseInput(m.dx, m.dy, m.dz, m.buttons);
        break;
      case 'serial-input':
        machine.serialInput(m.port, m.data);
        break;
      case 'frame-ack':
        if (this.unackedFrames > 0) this.unackedFrames--;
        this.lastAckAt = performance.now();
        break;
      case 'refresh':
        this.forceFullFrame = true;
        this.lastText = '';
        this.sendDisplay(performance.now(), true);
        break;
      case 'screenshot': {
        const mode = machine.vga.updateDisplayMode();
        const target = { width: mode.width, height: mode.height, data: new Uint8ClampedArray(mode.width * mode.height * 4) };
        machine.vga.render(target);
        this.emit({ type: 'screenshot', png: new Uint8Array(encodePng(mode.width, mode.height, target.data)) });
        break;
      }
      case 'change-medium':
        (this.cdChanger ??= new CdChanger(this.vm, this.devices)).change(machine, m, this.emit);
        break;
      case 'snapshot-freeze':
        this.reply(m.requestId, () => this.freeze(m.stateFile));
        break;
      case 'snapshot-release-disks':
        this.reply(m.requestId, () => this.releaseDisks(m.keys));
        break;
      case 'snapshot-swap-disks':
        this.reply(m.requestId, () => this.swapDisks(m.disks));
        break;
      case 'snapshot-thaw':
        this.reply(m.requestId, () => this.thaw());
        break;
      case 'boot':
        break;
    }
  }

  private reply(requestId: number, fn: () => number | void): void {
    try {
      const bytes = fn();
      this.emit({ type: 'reply', requestId, ok: true, bytes: typeof bytes === 'number' ? bytes : undefined });
    } catch (e) {
      this.emit({ type: 'reply', requestId, ok: false, error: ((e as Error).message ?? String(e)).slice(0, 4096) });
    }
  }

  /** Stop running guest code, make the disks durable, save the machine state. Returns the state file's size. */
  private freeze(stateFile: string | null): number | void {
    if (!this.running) throw new Error('the machine is not running');
    if (this.frozen) throw new Error('another snapshot operation is in progress');
    this.frozen = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.emit({ type: 'state', state: 'saving' });
    try {
      for (const d of this.swappable) d.flush();
      if (stateFile) return writeStateFile(stateFile, this.machine.saveState({ shareRam: true }));
    } catch (e) {
      this.thaw();
      throw e;
    }
  }

  /** While frozen, the writable disk attached at `key`. */
  private frozenDisk(key: string, what: string): SwappableDisk {
    if (!this.running) throw new Error('the machine is not running');
    if (!this.frozen) throw new Error(`disks can only be ${what} while the machine is frozen for a snapshot`);
    const disk = this.swappable.find((d) => d.key === key);
    if (!disk) throw new Error(`no writable disk is attached at ${key}`);
    return disk;
  }

  /**
   * Close the listed disks' images (deleting a snapshot: the host merges layers of their
   * chains, which must not be open here); snapshot-swap-disks reopens them before the thaw.
   */
  private releaseDisks(keys: string[]): void {
    const disks = keys.map((key) => this.frozenDisk(key, 'released'));
    for (const d of disks) d.release();
  }

  /**
   * Continue each listed disk on a new image (or reopen a released one); all or nothing.
   * A disk still open on that very file stays as it is (a rollback may name disks whose
   * release never happened: opening the file again would hit our own write lock).
   */
  private swapDisks(disks: { key: string; path: string }[]): void {
    const opened: { disk: SwappableDisk; image: OpenedImage }[] = [];
    try {
      for (const { key, path: file } of disks) {
        const disk = this.frozenDisk(key, 'switched');
        if (!disk.released && sameFile(disk.image.path, file)) continue;
        opened.push({ disk, image: openDiskImage(file, { writable: true }) });
      }
      for (const o of opened) if (o.image.size !== o.disk.size) throw new Error(`${o.image.path} is ${o.image.size} bytes, the disk at ${o.disk.key} ${o.disk.size}`);
    } catch (e) {
      for (const o of opened) o.image.close();
      throw e;
    }
    // The previous images become frozen snapshot layers: close them (flush, release the write lock).
    for (const o of opened) o.disk.swap(o.image)?.close();
  }

  private thaw(): void {
    if (!this.frozen) return;
    this.frozen = false;
    if (!this.running) return;
    this.emit({ type: 'state', state: this.paused ? 'paused' : 'running' });
    if (!this.paused) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // No wait: setImmediate, not setTimeout(0), which Node clamps to 1 ms (about 8 % of
    // every 12 ms turn lost). Messages from the host are still handled between turns. A
    // superseded immediate is recognised by its generation; turn() itself returns when the
    // machine is paused, frozen or stopped.
    const generation = ++this.turnGeneration;
    if (delayMs <= 0) setImmediate(() => generation === this.turnGeneration && this.turn());
    else this.timer = setTimeout(() => this.turn(), delayMs);
  }

  /** One turn: run the guest for up to TURN_MS, then publish display/stats and yield. */
  private turn(): void {
    this.timer = null;
    if (!this.running || this.paused || this.frozen) return;
    const t0 = performance.now();
    let wait = 0;
    while (performance.now() - t0 < TURN_MS) {
      const r = this.machine.runSlice(200_000);
      this.statsInstructions += r.instructions;
      if (r.reason === 'stopped') {
        // A guest that executed CLI; HLT is frozen, not off: like a real PC (and
        // VirtualBox) the window stays up showing its last screen until the user
        // resets or powers off. Any other stop (power-off) ends the VM.
        if (this.machine.stopReason === 'halted with interrupts disabled') {
          wait = 250;
          break;
        }
        this.stop(this.machine.stopReason ?? 'the machine stopped');
        return;
      }
      if (r.reason === 'idle') {
        // Halted until the next timer: sleep on the host instead of spinning.
        wait = Math.min(10, Math.max(0, (r.waitNs ?? 1e7) / 1e6));
        break;
      }
      if (r.reason === 'yield') break;
    }
    const now = performance.now();
    this.sendDisplay(now, false);
    this.sendStats(now);
    this.sendThumbnail(now, false);
    this.schedule(wait);
  }

  private sendDisplay(now: number, force: boolean): void {
    if (this.unackedFrames >= MAX_UNACKED_FRAMES && now - Math.max(this.lastAckAt, this.lastFrameAt) >= ACK_TIMEOUT_MS) this.unackedFrames = 0;
    // Not rendering leaves the VGA's dirty region to grow: the next frame carries it all.
    if (force || (now - this.lastFrameAt >= FRAME_INTERVAL_MS && this.unackedFrames < MAX_UNACKED_FRAMES)) {
      this.lastFrameAt = now;
      const vga = this.machine.vga;
      const mode = vga.updateDisplayMode();
      if (this.frame.width !== mode.width || this.frame.height !== mode.height) {
        this.frame = { width: mode.width, height: mode.height, data: new Uint8ClampedArray(mode.width * mode.height * 4) };
        this.forceFullFrame = true;
      }
      const rect = vga.render(this.frame);
      const full = this.forceFullFrame;
      this.forceFullFrame = false;
      const r = full ? { x: 0, y: 0, width: this.frame.width, height: this.frame.height } : rect;
      if (r && r.width > 0 && r.height > 0) {
        const out = new Uint8Array(r.width * r.height * 4);
        for (let row = 0; row < r.height; row++) {
          const src = ((r.y + row) * this.frame.width + r.x) * 4;
          out.set(this.frame.data.subarray(src, src + r.width * 4), row * r.width * 4);
        }
        this.emit({ type: 'frame', x: r.x, y: r.y, width: r.width, height: r.height, rgba: out });
        this.unackedFrames++;
        this.screenChangedSinceThumb = true;
        this.framesSent++;
        this.statsFrames++;
      }
    }
    if (force || now - this.lastTextAt >= TEXT_INTERVAL_MS) {
      this.lastTextAt = now;
      const text = this.machine.textScreen();
      if (text !== this.lastText) {
        this.lastText = text;
        this.emit({ type: 'text-screen', text: text.slice(0, 64 * 1024) });
      }
    }
  }

  /** Nearest-neighbour downscale of the last rendered frame, for the manager's VM list. */
  private sendThumbnail(now: number, force: boolean): void {
    if (!force && (!this.screenChangedSinceThumb || now - this.lastThumbAt < THUMBNAIL_INTERVAL_MS)) return;
    const { width, height, data } = this.frame;
    if (!width || !height) return;
    this.lastThumbAt = now;
    this.screenChangedSinceThumb = false;
    const tw = THUMBNAIL_WIDTH;
    const th = Math.max(1, Math.round((height * tw) / width));
    const out = new Uint8Array(tw * th * 4);
    for (let y = 0; y < th; y++) {
      const sy = Math.floor((y * height) / th);
      for (let x = 0; x < tw; x++) {
        const s = (sy * width + Math.floor((x * width) / tw)) * 4;
        out.set(data.subarray(s, s + 4), (y * tw + x) * 4);
      }
    }
    this.emit({ type: 'thumbnail', png: new Uint8Array(encodePng(tw, th, out)) });
  }

  private sendStats(now: number): void {
    const dt = now - this.statsAt;
    if (dt < 1000) return;
    this.emit({ type: 'stats', mips: this.statsInstructions / dt / 1000, fps: (this.statsFrames * 1000) / dt, instructions: this.machine.cpu.instructionCount, uptimeMs: now - this.startedAt });
    this.statsAt = now;
    this.statsInstructions = 0;
    this.statsFrames = 0;
  }

  private stop(reason: string): void {
    if (!this.running) return;
    this.running = false;
    this.sendThumbnail(performance.now(), true);
    if (this.timer) clearTimeout(this.timer);
    // Completed guest writes must survive: flush and close every image (releases the locks).
    for (const d of this.devices) {
      try {
        d.close();
      } catch (e) {
        this.emit({ type: 'log', level: 'error', source: 'storage', message: `closing a disk failed: ${(e as Error).message}` });
      }
    }
    // Exit once this last message has left the process: exiting earlier drops what is still
    // queued behind a slow host (frames, the thumbnail), this message included, and the
    // host would never learn the machine was powered off.
    this.emit({ type: 'state', state: 'stopped', reason }, () => process.exit(0));
    setTimeout(() => process.exit(0), EXIT_FALLBACK_MS);
  }
}

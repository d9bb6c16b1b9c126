// virtio console (virtio 1.x spec 5.3), single-port form: MULTIPORT is not offered, so the
// driver uses queue 0 (receiveq, host → guest) and queue 1 (transmitq, guest → host) of
// port 0, which Linux's virtio_console turns into /dev/hvc0 (a console: `console=hvc0`).
// Guest output is emitted as 'serial-output' with port VIRTIO_CONSOLE_PORT (100), so hosts
// can tell it from the UARTs (0-3). Host input is queued and delivered into receive buffers
// as the driver provides them.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { DeviceContext } from './device-context';
import type { PciBus, PciConfigSpace, PciFunction } from './pci-bus';
import { VirtioPci, type VirtioBackend } from './virtio-pci';

export const VIRTIO_CONSOLE_PORT = 100;
const RX = 0;
const TX = 1;
const QUEUE_SIZE = 128;
/** Host input waiting for receive buffers is capped so a stuck guest cannot grow it without bound. */
const MAX_PENDING = 64 * 1024;

export class VirtioConsole implements VirtioBackend, PciFunction, Snapshottable {
  readonly deviceType = 3;
  readonly transitionalDeviceId = 0x1003;
  readonly classCode = 0x078000; // simple communication controller, other (QEMU's virtio-serial)
  readonly features: number[] = [];
  readonly queueSizes = [QUEUE_SIZE, QUEUE_SIZE];
  /** struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr — none of their features offered. */
  readonly configSize = 12;
  readonly transport: VirtioPci;
  readonly stateId: string;
  readonly stateVersion = 1;
  private pending: number[] = [];

  constructor(
    private readonly ctx: DeviceContext,
    bus: PciBus,
    dev: number,
    private readonly name = 'virtio-console',
    private readonly port = VIRTIO_CONSOLE_PORT,
  ) {
    this.stateId = name;
    this.transport = new VirtioPci(ctx, bus, dev, this, name);
  }

  get pci(): PciConfigSpace {
    return this.transport.pci;
  }

  configRead(offset: number): number {
    // max_nr_ports (offset 4) reads 1; cols/rows 0 (no SIZE feature).
    return offset === 4 ? 1 : 0;
  }

  configWrite(offset: number): void {
    // emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, which is not offered.
    logGuestError(this.name, 'cfgw', `${this.name}: write to config byte ${offset} ignored`);
  }

  deviceReset(): void {
    // Pending host input survives a driver reset: it is data the user typed, not device state.
  }

  /** Machine reset: the transport returns to power-on state. */
  reset(): void {
    this.transport.reset();
  }

  /** Host → guest bytes (keyboard input of the console window). */
  sendInput(data: Uint8Array): void {
    const room = MAX_PENDING - this.pending.length;
    if (data.length > room) logGuestError(this.name, 'overflow', `${this.name}: guest is not reading input; ${data.length - room} bytes dropped`);
    for (let i = 0; i < Math.min(room, data.length); i++) this.pending.push(data[i]);
    try {
      this.deliver();
    } catch (e) {
      this.transport.deviceError(e);
    }
  }

  queueNotify(q: number): void {
    if (q === TX) this.transmit();
    else if (q === RX) this.deliver();
  }

  private transmit(): void {
    const vq = this.transport.queues[TX];
    let any = false;
    for (let chain = vq.pop(); chain; chain = vq.pop()) {
      const data = vq.readOut(chain);
      if (data.length) this.ctx.events.emit('serial-output', { port: this.port, data });
      vq.push(chain, 0);
      any = true;
    }
    if (any) {
      this.transport.notifyUsed(TX);
      this.ctx.requestYield();
    }
  }

  private deliver(): void {
    if (!this.pending.length || !this.transport.driverOk) return;
    const vq = this.transport.queues[RX];
    if (!vq.enabled) return;
    let any = false;
    while (this.pending.length) {
      const chain = vq.pop();
      if (!chain) break;
      const n = Math.min(chain.inLen, this.pending.length);
      const written = vq.writeIn(chain, Uint8Array.from(this.pending.slice(0, n)));
      this.pending.splice(0, written);
      vq.push(chain, written);
      any = true;
    }
    if (any) this.transport.notifyUsed(RX);
  }

  saveState(): ComponentState {
    return { transport: this.transport.saveState(), pending: Uint8Array.from(this.pending) };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.transport.loadState(s.transport as ComponentState, this.transport.stateVersion);
    this.pending = Array.from(s.pending as Uint8Array);
  }
}

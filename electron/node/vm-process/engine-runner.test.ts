// The VM process's display pump: frames are flow-controlled by the display's acks, so a
// slow display gets fewer, coalesced frames instead of an unbounded queue.
import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { EngineRunner } from './engine-runner';
import type { FromVm } from '../../../protocol/vm-process';
import { testVmConfig } from './test-vm-config';

const config = testVmConfig('Frames');

describe('EngineRunner frame flow control', () => {
  it('keeps at most two frames unacknowledged, coalesces changes meanwhile, and resumes on ack or timeout', () => {
    const sent: FromVm[] = [];
    const runner = new EngineRunner(config, os.tmpdir(), (m) => sent.push(m));
    const r = runner as unknown as { machine: { textScreen(): string; mem: { write8(a: number, v: number): void } }; sendDisplay(now: number, force: boolean): void };
    const frames = () => sent.filter((m) => m.type === 'frame').length;
    let now = 10_000;
    /** Change the screen (a character in text mode), then let the pump run one frame interval later. */
    const tick = (i: number) => {
      r.machine.mem.write8(0xb8000 + (i % 80) * 2, 0x41 + (i % 26));
      r.machine.mem.write8(0xb8001 + (i % 80) * 2, 0x07);
      now += 40;
      r.sendDisplay(now, false);
    };
    for (let i = 0; i < 10; i++) tick(i);
    expect(frames()).toBe(2); // two in flight, nothing acknowledged
    runner.command({ type: 'frame-ack' });
    tick(10);
    expect(frames()).toBe(3);
    // The frame after an ack carries everything changed while frames were held back.
    const last = sent.filter((m) => m.type === 'frame').pop()!;
    expect(last.type === 'frame' && last.width).toBeGreaterThan(8);
    for (let i = 11; i < 20; i++) tick(i);
    expect(frames()).toBe(3);
    // No display acknowledging (none attached, or one lost a message): frames continue slowly.
    now += 1000;
    tick(20);
    expect(frames()).toBe(4);
    runner.command({ type: 'power-off' });
  });
});

import { describe, it, expect } from 'vitest';
import { parseMessage, toVmSchema, fromVmSchema } from './vm-process';
import { hostRequestSchemas } from './host-api';

describe('VM process protocol validation', () => {
  it('accepts well-formed messages', () => {
    expect(parseMessage(toVmSchema, { type: 'pause' }).ok).toBe(true);
    expect(parseMessage(toVmSchema, { type: 'serial-input', port: 0, data: new Uint8Array([65]) }).ok).toBe(true);
    expect(parseMessage(fromVmSchema, { type: 'state', state: 'running' }).ok).toBe(true);
  });

  it('rejects malformed messages with a reason instead of throwing', () => {
    const bad = [null, 42, 'pause', {}, { type: 'explode' }, { type: 'mouse', dx: 1e9, dy: 0, dz: 0, buttons: 0 }, { type: 'serial-input', port: 0, data: 'AAAA' }];
    for (const m of bad) {
      const r = parseMessage(toVmSchema, m);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^malformed message/);
    }
    expect(parseMessage(fromVmSchema, { type: 'frame', x: 0, y: 0, width: 0, height: 1, rgba: new Uint8Array() }).ok).toBe(false);
  });

  it('validates host requests by method', () => {
    expect(hostRequestSchemas['vm.start'].safeParse({ id: 'not-a-uuid' }).success).toBe(false);
    expect(hostRequestSchemas['vm.create'].safeParse({ name: 'x', osType: 'linux', memoryMiB: 64 }).success).toBe(true);
    expect(hostRequestSchemas['vm.create'].safeParse({ name: 'x', osType: 'amiga', memoryMiB: 64 }).success).toBe(false);
  });
});

import { scanBytes, comboBytes } from './keycodes';

describe('keyboard scan codes (set 2)', () => {
  it('encodes plain and extended keys with F0 releases', () => {
    expect(scanBytes('KeyA', true)).toEqual([0x1c]);
    expect(scanBytes('KeyA', false)).toEqual([0xf0, 0x1c]);
    expect(scanBytes('ArrowUp', true)).toEqual([0xe0, 0x75]);
    expect(scanBytes('ArrowUp', false)).toEqual([0xe0, 0xf0, 0x75]);
    expect(scanBytes('NoSuchKey', true)).toBeNull();
  });
  it('builds Ctrl+Alt+Del as presses then releases in reverse', () => {
    expect(comboBytes('ctrl-alt-del')).toEqual([0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14]);
  });
});

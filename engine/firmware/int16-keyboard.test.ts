import { describe, expect, it } from 'vitest';
import { translate } from './int16-keyboard';

describe('scan code translation', () => {
  it('maps set-1 make codes to BIOS key codes', () => {
    expect(translate(0x1e, false, 0)).toBe(0x1e61); // a
    expect(translate(0x1e, false, 0x02)).toBe(0x1e41); // shift-a
    expect(translate(0x1e, false, 0x40)).toBe(0x1e41); // caps lock
    expect(translate(0x1e, false, 0x04)).toBe(0x1e01); // ctrl-a
    expect(translate(0x1e, false, 0x08)).toBe(0x1e00); // alt-a
    expect(translate(0x1c, false, 0)).toBe(0x1c0d); // enter
    expect(translate(0x02, false, 0x02)).toBe(0x0221); // '!'
    expect(translate(0x3b, false, 0)).toBe(0x3b00); // F1
    expect(translate(0x58, false, 0)).toBe(0x8600); // F12
    expect(translate(0x48, true, 0)).toBe(0x48e0); // grey up arrow
    expect(translate(0x48, false, 0)).toBe(0x4800); // keypad 8 without num lock
    expect(translate(0x48, false, 0x20)).toBe(0x4838); // with num lock
  });
});

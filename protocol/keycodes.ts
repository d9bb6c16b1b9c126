// KeyboardEvent.code → PS/2 scan code set 2, what a PS/2 keyboard sends; the
// emulated i8042 translates to set 1 when the guest enables translation, as on a
// real PC. Extended keys carry the E0 prefix; a release inserts F0 before the last
// byte. Only codes in this table are accepted from a display.
const plain: Record<string, number> = {
  Escape: 0x76, Digit1: 0x16, Digit2: 0x1e, Digit3: 0x26, Digit4: 0x25, Digit5: 0x2e, Digit6: 0x36, Digit7: 0x3d, Digit8: 0x3e,
  Digit9: 0x46, Digit0: 0x45, Minus: 0x4e, Equal: 0x55, Backspace: 0x66, Tab: 0x0d, KeyQ: 0x15, KeyW: 0x1d, KeyE: 0x24,
  KeyR: 0x2d, KeyT: 0x2c, KeyY: 0x35, KeyU: 0x3c, KeyI: 0x43, KeyO: 0x44, KeyP: 0x4d, BracketLeft: 0x54, BracketRight: 0x5b,
  Enter: 0x5a, ControlLeft: 0x14, KeyA: 0x1c, KeyS: 0x1b, KeyD: 0x23, KeyF: 0x2b, KeyG: 0x34, KeyH: 0x33, KeyJ: 0x3b,
  KeyK: 0x42, KeyL: 0x4b, Semicolon: 0x4c, Quote: 0x52, Backquote: 0x0e, ShiftLeft: 0x12, Backslash: 0x5d, KeyZ: 0x1a,
  KeyX: 0x22, KeyC: 0x21, KeyV: 0x2a, KeyB: 0x32, KeyN: 0x31, KeyM: 0x3a, Comma: 0x41, Period: 0x49, Slash: 0x4a,
  ShiftRight: 0x59, NumpadMultiply: 0x7c, AltLeft: 0x11, Space: 0x29, CapsLock: 0x58, F1: 0x05, F2: 0x06, F3: 0x04,
  F4: 0x0c, F5: 0x03, F6: 0x0b, F7: 0x83, F8: 0x0a, F9: 0x01, F10: 0x09, NumLock: 0x77, ScrollLock: 0x7e, Numpad7: 0x6c,
  Numpad8: 0x75, Numpad9: 0x7d, NumpadSubtract: 0x7b, Numpad4: 0x6b, Numpad5: 0x73, Numpad6: 0x74, NumpadAdd: 0x79,
  Numpad1: 0x69, Numpad2: 0x72, Numpad3: 0x7a, Numpad0: 0x70, NumpadDecimal: 0x71, IntlBackslash: 0x61, F11: 0x78, F12: 0x07,
};

const extended: Record<string, number> = {
  NumpadEnter: 0x5a, ControlRight: 0x14, NumpadDivide: 0x4a, AltRight: 0x11, Home: 0x6c, ArrowUp: 0x75, PageUp: 0x7d,
  ArrowLeft: 0x6b, ArrowRight: 0x74, End: 0x69, ArrowDown: 0x72, PageDown: 0x7a, Insert: 0x70, Delete: 0x71,
  MetaLeft: 0x1f, MetaRight: 0x27, ContextMenu: 0x2f,
};

export function isKnownKey(code: string): boolean {
  return Object.hasOwn(plain, code) || Object.hasOwn(extended, code);
}

/** Set-2 bytes the keyboard sends for a key press or release; null for keys not in the table. */
export function scanBytes(code: string, down: boolean): number[] | null {
  if (Object.hasOwn(plain, code)) return down ? [plain[code]] : [0xf0, plain[code]];
  if (Object.hasOwn(extended, code)) return down ? [0xe0, extended[code]] : [0xe0, 0xf0, extended[code]];
  return null;
}

/** Key sequences for the display's "Send key combination" menu. */
export const KEY_COMBOS: Record<string, string[]> = {
  'ctrl-alt-del': ['ControlLeft', 'AltLeft', 'Delete'],
  'ctrl-alt-backspace': ['ControlLeft', 'AltLeft', 'Backspace'],
  'ctrl-alt-f1': ['ControlLeft', 'AltLeft', 'F1'],
  'ctrl-alt-f2': ['ControlLeft', 'AltLeft', 'F2'],
};

/** Presses then releases (in reverse order) every key of a combination. */
export function comboBytes(combo: string): number[] {
  const keys = KEY_COMBOS[combo] ?? [];
  const out: number[] = [];
  for (const k of keys) out.push(...scanBytes(k, true)!);
  for (const k of [...keys].reverse()) out.push(...scanBytes(k, false)!);
  return out;
}

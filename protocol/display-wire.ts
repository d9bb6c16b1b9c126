// Encoding of display traffic over a WebSocket (browser mode). Pixels and serial
// bytes travel as binary messages; everything else as JSON text. In Electron the
// same FromVm/ToVm objects cross a MessagePort unencoded.
import type { FromVm } from './vm-process';

export const WIRE_FRAME = 1;
export const WIRE_SERIAL = 2;

/** Binary encoding of 'frame' and 'serial-output'; null for messages sent as JSON. */
export function encodeBinary(m: FromVm): Uint8Array | null {
  if (m.type === 'frame') {
    const out = new Uint8Array(9 + m.rgba.length);
    const dv = new DataView(out.buffer);
    out[0] = WIRE_FRAME;
    dv.setUint16(1, m.x, true);
    dv.setUint16(3, m.y, true);
    dv.setUint16(5, m.width, true);
    dv.setUint16(7, m.height, true);
    out.set(m.rgba, 9);
    return out;
  }
  if (m.type === 'serial-output') {
    const out = new Uint8Array(2 + m.data.length);
    out[0] = WIRE_SERIAL;
    out[1] = m.port;
    out.set(m.data, 2);
    return out;
  }
  return null;
}

export function decodeBinary(buf: Uint8Array): FromVm | null {
  if (buf.length < 2) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf[0] === WIRE_FRAME && buf.length >= 9) {
    const width = dv.getUint16(5, true);
    const height = dv.getUint16(7, true);
    const rgba = buf.subarray(9);
    if (rgba.length !== width * height * 4) return null;
    return { type: 'frame', x: dv.getUint16(1, true), y: dv.getUint16(3, true), width, height, rgba };
  }
  if (buf[0] === WIRE_SERIAL) return { type: 'serial-output', port: buf[1], data: buf.subarray(2) };
  return null;
}

/** JSON form of FromVm messages that carry bytes (screenshots) — base64 in text. */
export function toJsonSafe(m: FromVm): unknown {
  if (m.type === 'screenshot') return { type: 'screenshot', pngBase64: bytesToBase64(m.png) };
  return m;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

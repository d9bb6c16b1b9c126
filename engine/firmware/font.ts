// Character generator fonts for the VGA text modes, built from a packaged bitmap font:
// Terminus 8x14 (SIL OFL 1.1) as shipped in JSON form by the `blessed` npm package (MIT),
// `node_modules/blessed/usr/fonts/ter-u14n.json`. No npm package carrying the IBM VGA ROM
// font itself is reachable from this project's registry, so the CP437 repertoire is taken
// from Terminus through the standard CP437 → Unicode mapping below.
//  - 8x16 (mode 3): each 14-row glyph gets one row above and below; block and box-drawing
//    glyphs (U+2500-U+259F) repeat their edge rows instead, so lines still join.
//  - 8x8 (80x50 via AX=1112h, INT 43h, the F000:FA6E table): derived from the 14-row glyphs.
import terminus from 'blessed/usr/fonts/ter-u14n.json';

/** Code page 437 as Unicode, index = byte (0x00 is blank, 0xFF is a no-break space). */
const CP437 =
  '\u0000☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼' +
  ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~⌂' +
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»' +
  '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

type Glyph = { code: number; map: string[] };
type JsonFont = { width: number; height: number; glyphs: Record<string, Glyph> };

/** Unicode alternatives for CP437 characters a font may lack. */
const FALLBACK: Record<number, number> = { 0xb5: 0x3bc, 0x3bc: 0xb5, 0x2219: 0xb7, 0x3b2: 0xdf, 0xdf: 0x3b2, 0x3a9: 0x2126, 0x25ba: 0x25b6, 0x25c4: 0x25c0 };

let cache: { f16: Uint8Array; f8: Uint8Array; missing: number[] } | null = null;

function build(): { f16: Uint8Array; f8: Uint8Array; missing: number[] } {
  const font = terminus as unknown as JsonFont;
  const byCode = new Map<number, string[]>();
  for (const g of Object.values(font.glyphs)) byCode.set(g.code, g.map);
  const f16 = new Uint8Array(256 * 16);
  const f8 = new Uint8Array(256 * 8);
  const missing: number[] = [];
  const chars = Array.from(CP437);
  for (let c = 0; c < 256; c++) {
    const u = chars[c].codePointAt(0)!;
    let map = byCode.get(u) ?? (FALLBACK[u] !== undefined ? byCode.get(FALLBACK[u]) : undefined);
    if (u === 0xa0 || c === 0) map = byCode.get(0x20); // NUL and NBSP draw blank
    if (!map) {
      if (c !== 0) missing.push(c);
      continue;
    }
    const rows = map.map((line) => {
      let bits = 0;
      for (let x = 0; x < 8; x++) if (line[x] !== undefined && line[x] !== ' ') bits |= 0x80 >> x;
      return bits;
    });
    const joins = u >= 0x2500 && u <= 0x259f;
    // 16 rows: pad one row above and below (edge-repeating for line/block drawing).
    f16[c * 16] = joins ? rows[0] : 0;
    for (let r = 0; r < 14; r++) f16[c * 16 + 1 + r] = rows[r];
    f16[c * 16 + 15] = joins ? rows[13] : 0;
    // 8 rows: line/block glyphs sample the full height, text glyphs the 12 inner rows.
    // Text glyphs: rows 2..13 (12 rows) fold into 8 by OR-ing each 1.5-row band, which keeps
    // every stroke; line/block glyphs sample the full 14 rows so they still meet their neighbours.
    for (let r = 0; r < 8; r++) {
      if (joins) {
        f8[c * 8 + r] = rows[Math.min(13, Math.floor((r * 14) / 8 + 0.5))];
        continue;
      }
      let bits = 0;
      for (let s = Math.floor(2 + r * 1.5); s < Math.ceil(2 + (r + 1) * 1.5); s++) bits |= rows[s];
      f8[c * 8 + r] = bits;
    }
  }
  return { f16, f8, missing };
}

/** The 8x16 font, 16 bytes per character, CP437 order. */
export function font8x16(): Uint8Array {
  cache ??= build();
  return cache.f16;
}

/** The 8x8 font, 8 bytes per character, CP437 order. */
export function font8x8(): Uint8Array {
  cache ??= build();
  return cache.f8;
}

/** CP437 codes the packaged font has no glyph for (drawn blank). */
export function missingGlyphs(): number[] {
  cache ??= build();
  return cache.missing;
}

/** Unicode for a CP437 code (screen readers in tests). */
export function cp437ToUnicode(c: number): string {
  return Array.from(CP437)[c & 0xff];
}

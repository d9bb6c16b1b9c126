// Code page 437 (the VGA ROM character set) to Unicode, for getTextScreen(). The control
// range 0x01-0x1F shows the IBM PC glyphs (☺, ♥, arrows...), as the hardware draws them.
// NUL and 0xFF (a blank glyph) map to a plain space so trimmed lines compare cleanly.
const LOW = ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼';
const HIGH =
  'ÇüéâäàåçêëèïîìÄÅ' +
  'ÉæÆôöòûùÿÖÜ¢£¥₧ƒ' +
  'áíóúñÑªº¿⌐¬½¼¡«»' +
  '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧' +
  '╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩' +
  '≡±≥≤⌠⌡÷≈°∙·√ⁿ²■ ';

export const CP437: readonly string[] = (() => {
  const t: string[] = [];
  for (const ch of LOW) t.push(ch);
  for (let c = 0x20; c < 0x7f; c++) t.push(String.fromCharCode(c));
  t.push('⌂');
  for (const ch of HIGH) t.push(ch);
  if (t.length !== 256) throw new Error(`CP437 table has ${t.length} entries`);
  return t;
})();

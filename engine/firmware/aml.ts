// A tiny ACPI Machine Language encoder (ACPI 6.x section 20.2) for the DSDT: enough terms
// to write names, packages, scopes, devices and simple methods as byte arrays.
export type Aml = number[];

/** PkgLength: the encoded length counts itself (1-4 bytes). */
export function pkgLength(contentLength: number): Aml {
  for (let n = 1; n <= 4; n++) {
    const total = contentLength + n;
    if (n === 1 && total <= 0x3f) return [total];
    if (n > 1 && total < 1 << (4 + 8 * (n - 1))) {
      const out = [((n - 1) << 6) | (total & 0x0f)];
      for (let i = 1; i < n; i++) out.push((total >>> (4 + 8 * (i - 1))) & 0xff);
      return out;
    }
  }
  throw new RangeError(`AML package too long (${contentLength})`);
}

/** One 4-character NameSeg, '_'-padded. */
export function nameSeg(s: string): Aml {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(s)) throw new Error(`bad AML NameSeg ${s}`);
  const p = s.padEnd(4, '_');
  return [...p].map((c) => c.charCodeAt(0));
}

/** NameString: optional '\' root prefix, then one segment or a dual/multi name path. */
export function nameString(path: string): Aml {
  const out: Aml = [];
  let p = path;
  if (p.startsWith('\\')) {
    out.push(0x5c);
    p = p.slice(1);
  }
  while (p.startsWith('^')) {
    out.push(0x5e);
    p = p.slice(1);
  }
  const segs = p === '' ? [] : p.split('.');
  if (segs.length === 0) out.push(0x00);
  else if (segs.length === 1) out.push(...nameSeg(segs[0]));
  else if (segs.length === 2) out.push(0x2e, ...nameSeg(segs[0]), ...nameSeg(segs[1]));
  else {
    out.push(0x2f, segs.length);
    for (const s of segs) out.push(...nameSeg(s));
  }
  return out;
}

export function integer(v: number): Aml {
  if (v === 0) return [0x00];
  if (v === 1) return [0x01];
  if (v <= 0xff) return [0x0a, v];
  if (v <= 0xffff) return [0x0b, v & 0xff, v >>> 8];
  return [0x0c, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

export function string(s: string): Aml {
  return [0x0d, ...[...s].map((c) => c.charCodeAt(0) & 0x7f), 0x00];
}

/** Compressed EISA id (e.g. "PNP0A03") as a DWord integer. */
export function eisaId(id: string): Aml {
  const c = (i: number) => id.charCodeAt(i) - 0x40;
  const hex = parseInt(id.slice(3), 16);
  const v = ((c(0) << 26) | (c(1) << 21) | (c(2) << 16) | hex) >>> 0;
  // Stored big-endian within the little-endian DWord (byte-swapped).
  const sw = (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
  return [0x0c, sw & 0xff, (sw >>> 8) & 0xff, (sw >>> 16) & 0xff, (sw >>> 24) & 0xff];
}

export function pkg(...elements: Aml[]): Aml {
  const body = [elements.length, ...elements.flat()];
  return [0x12, ...pkgLength(body.length), ...body];
}

export function name(path: string, value: Aml): Aml {
  return [0x08, ...nameString(path), ...value];
}

export function scope(path: string, ...terms: Aml[]): Aml {
  const body = [...nameString(path), ...terms.flat()];
  return [0x10, ...pkgLength(body.length), ...body];
}

export function device(path: string, ...terms: Aml[]): Aml {
  const body = [...nameString(path), ...terms.flat()];
  return [0x5b, 0x82, ...pkgLength(body.length), ...body];
}

export function method(path: string, args: number, serialized: boolean, ...terms: Aml[]): Aml {
  const body = [...nameString(path), (args & 7) | (serialized ? 8 : 0), ...terms.flat()];
  return [0x14, ...pkgLength(body.length), ...body];
}

export function ret(value: Aml): Aml {
  return [0xa4, ...value];
}

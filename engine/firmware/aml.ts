// A tiny ACPI Machine Language encoder (ACPI 6.x section 20.2) for the DSDT: enough terms
// to write names, packages, buffers, scopes, devices, operation regions and fields, and
// methods with If/Else, Store, And/Or and comparisons, as byte arrays. Resource descriptors
// for ResourceTemplate buffers are in aml-resources.ts.
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

/** Buffer (size, bytes): 0x11 PkgLength BufferSize ByteList. */
export function buffer(bytes: number[]): Aml {
  const body = [...integer(bytes.length), ...bytes];
  return [0x11, ...pkgLength(body.length), ...body];
}

// ---- Data and argument objects ----
export const ZERO: Aml = [0x00];
export const ONE: Aml = [0x01];
/** Target operand meaning "no target" (NullName). */
export const NO_TARGET: Aml = [0x00];
export const local = (n: number): Aml => [0x60 + (n & 7)];
export const arg = (n: number): Aml => [0x68 + (n & 7)];
/** A name used as an operand (a NameString evaluates the named object). */
export const ref = (path: string): Aml => nameString(path);

// ---- Type-2 opcodes (expressions) ----
export const store = (src: Aml, dst: Aml): Aml => [0x70, ...src, ...dst];
export const and = (a: Aml, b: Aml, target: Aml = NO_TARGET): Aml => [0x7b, ...a, ...b, ...target];
export const or = (a: Aml, b: Aml, target: Aml = NO_TARGET): Aml => [0x7d, ...a, ...b, ...target];
export const lEqual = (a: Aml, b: Aml): Aml => [0x93, ...a, ...b];
export const lLess = (a: Aml, b: Aml): Aml => [0x95, ...a, ...b];

// ---- Type-1 opcodes (statements) ----
export function if_(predicate: Aml, ...terms: Aml[]): Aml {
  const body = [...predicate, ...terms.flat()];
  return [0xa0, ...pkgLength(body.length), ...body];
}

export function else_(...terms: Aml[]): Aml {
  const body = terms.flat();
  return [0xa1, ...pkgLength(body.length), ...body];
}

/** CreateDWordField (source buffer, byte index, new field name). */
export const createDWordField = (src: Aml, byteIndex: number, nameSegment: string): Aml => [
  0x8a,
  ...src,
  ...integer(byteIndex),
  ...nameSeg(nameSegment),
];

// ---- Named objects: operation regions and fields ----
export const RegionSpace = { SystemMemory: 0, SystemIO: 1, PciConfig: 2 } as const;

export function operationRegion(nameSegment: string, space: number, offset: number, length: number): Aml {
  return [0x5b, 0x80, ...nameSeg(nameSegment), space, ...integer(offset), ...integer(length)];
}

/** FieldFlags: AccessType (1 ByteAcc, 3 DWordAcc), LockRule (bit 4), UpdateRule (bits 5-6: 0 Preserve). */
export const FieldAccess = { Any: 0, Byte: 1, Word: 2, DWord: 3 } as const;

/**
 * Field (region, flags) { name, bits; ... }. A NamedField's length is a PkgLength-style
 * encoding of the bit count itself (it does not count its own bytes); an empty name reserves
 * bits (ReservedField, 0x00 PkgLength).
 */
export function field(region: string, access: number, elements: [string, number][]): Aml {
  const list: Aml = [];
  for (const [n, bits] of elements) {
    if (n === '') list.push(0x00, ...rawLength(bits));
    else list.push(...nameSeg(n), ...rawLength(bits));
  }
  const body = [...nameString(region), access & 0x7f, ...list];
  return [0x5b, 0x81, ...pkgLength(body.length), ...body];
}

/** The PkgLength byte layout for a value that does not include the encoding's own size. */
function rawLength(v: number): Aml {
  if (v <= 0x3f) return [v];
  const n = v < 1 << 12 ? 2 : v < 1 << 20 ? 3 : 4;
  const out = [((n - 1) << 6) | (v & 0x0f)];
  for (let i = 1; i < n; i++) out.push((v >>> (4 + 8 * (i - 1))) & 0xff);
  return out;
}

/** MethodInvocation: the method's NameString followed by its arguments. */
export const call = (path: string, ...args: Aml[]): Aml => [...nameString(path), ...args.flat()];

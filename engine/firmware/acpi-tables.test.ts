import { describe, expect, it } from 'vitest';
import { buildAcpi } from './acpi-tables';
import { buildDsdtAml } from './dsdt';
import { pkgLength, nameString, integer, eisaId, pkg, name } from './aml';
import { sum8 } from './rom-builder';
import { buildMpConfig, buildMpFloating } from './mp-table';

const base = 0x7ff0000;
const opts = { base, pmBase: 0x600, sciIrq: 9, s5SlpTyp: 0, lapic: true, ioapic: { address: 0xfec00000, id: 0 }, hpet: { address: 0xfed00000, blockId: 0x8086a201 } };

function table(area: Uint8Array, addr: number): Uint8Array {
  const o = addr - base;
  const len = area[o + 4] | (area[o + 5] << 8) | (area[o + 6] << 16) | (area[o + 7] << 24);
  return area.subarray(o, o + len);
}
const sig = (t: Uint8Array) => String.fromCharCode(...t.subarray(0, 4));
const u32 = (t: Uint8Array, o: number) => (t[o] | (t[o + 1] << 8) | (t[o + 2] << 16) | (t[o + 3] << 24)) >>> 0;

describe('AML encoder', () => {
  it('encodes package lengths of 1 to 3 bytes', () => {
    expect(pkgLength(5)).toEqual([6]);
    expect(pkgLength(62)).toEqual([63]);
    expect(pkgLength(63)).toEqual([0x41, 0x04]); // 65 = 0x41 → lead 0x40|1, next 0x04
    expect(pkgLength(0x1000)).toEqual([0x83, 0x00, 0x01]); // 0x1003: low nibble in the lead byte, then 0x00, 0x01
  });

  it('encodes names, integers and EISA ids', () => {
    expect(nameString('\\_S5')).toEqual([0x5c, 0x5f, 0x53, 0x35, 0x5f]);
    expect(nameString('\\_SB.PCI0')).toEqual([0x5c, 0x2e, ...'_SB_PCI0'.split('').map((c) => c.charCodeAt(0))]);
    expect(integer(0)).toEqual([0]);
    expect(integer(5)).toEqual([0x0a, 5]);
    expect(integer(0x1234)).toEqual([0x0b, 0x34, 0x12]);
    expect(eisaId('PNP0A03')).toEqual([0x0c, 0x41, 0xd0, 0x0a, 0x03]);
    expect(name('FOO', pkg(integer(1)))).toEqual([0x08, 0x46, 0x4f, 0x4f, 0x5f, 0x12, 0x03, 0x01, 0x01]);
  });

  it('writes \\_S5 as Name(\\_S5, Package(4){typ, typ, 0, 0})', () => {
    expect(buildDsdtAml({ s5SlpTyp: 0, pci: null })).toEqual([0x08, 0x5c, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00]);
    expect(buildDsdtAml({ s5SlpTyp: 5, pci: null })).toEqual([0x08, 0x5c, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00]);
  });
});

describe('ACPI tables', () => {
  const t = buildAcpi(opts);

  it('has a valid RSDP pointing at the RSDT', () => {
    expect(String.fromCharCode(...t.rsdp.subarray(0, 8))).toBe('RSD PTR ');
    expect(sum8(t.rsdp, 0, 20)).toBe(0);
    expect(u32(t.rsdp, 16)).toBe(t.addr.RSDT);
  });

  it('checksums every table and lists FACP, APIC, HPET in the RSDT', () => {
    const rsdt = table(t.area, t.addr.RSDT);
    expect(sum8(rsdt)).toBe(0);
    const entries = (rsdt.length - 36) / 4;
    const sigs: string[] = [];
    for (let i = 0; i < entries; i++) {
      const tb = table(t.area, u32(rsdt, 36 + 4 * i));
      expect(sum8(tb)).toBe(0);
      sigs.push(sig(tb));
    }
    expect(sigs).toEqual(['FACP', 'APIC', 'HPET']);
  });

  it('points the FADT at the PM block, FACS and DSDT', () => {
    const f = table(t.area, t.addr.FACP);
    expect(f.length).toBe(116);
    expect(u32(f, 36)).toBe(t.addr.FACS);
    expect(u32(f, 40)).toBe(t.addr.DSDT);
    expect(f[46]).toBe(9);
    expect(u32(f, 56)).toBe(0x600);
    expect(u32(f, 64)).toBe(0x604);
    expect(u32(f, 76)).toBe(0x608);
    expect(t.addr.FACS % 64).toBe(0);
    const dsdt = table(t.area, t.addr.DSDT);
    expect(sum8(dsdt)).toBe(0);
    expect([...dsdt.subarray(36)]).toEqual(buildDsdtAml({ s5SlpTyp: 0, pci: null }));
    const withPci = buildAcpi({ ...opts, pci: { memBase: 0x8000000, memLimit: 0xfebfffff } });
    const big = table(withPci.area, withPci.addr.DSDT);
    expect(sum8(big)).toBe(0);
    expect([...big.subarray(36)]).toEqual(buildDsdtAml({ s5SlpTyp: 0, pci: { memBase: 0x8000000, memLimit: 0xfebfffff } }));
  });

  it('describes only the APICs that exist', () => {
    const m = table(t.area, t.addr.APIC);
    const types: number[] = [];
    for (let o = 44; o < m.length; o += m[o + 1]) types.push(m[o]);
    expect(types).toEqual([0, 1, 2, 2, 2, 2, 4]);
    const noIo = buildAcpi({ ...opts, ioapic: null, hpet: null });
    const m2 = table(noIo.area, noIo.addr.APIC);
    const types2: number[] = [];
    for (let o = 44; o < m2.length; o += m2[o + 1]) types2.push(m2[o]);
    expect(types2).toEqual([0, 4]);
    const noApic = buildAcpi({ ...opts, lapic: false, ioapic: null, hpet: null });
    expect(noApic.addr.APIC).toBeUndefined();
  });
});

describe('MP table', () => {
  it('builds a checksummed floating pointer and configuration table', () => {
    const c = buildMpConfig({ ioapic: { address: 0xfec00000, id: 0, pins: 24 }, pci: true });
    expect(String.fromCharCode(...c.subarray(0, 4))).toBe('PCMP');
    expect(sum8(c)).toBe(0);
    const f = buildMpFloating(0xf1000);
    expect(String.fromCharCode(...f.subarray(0, 4))).toBe('_MP_');
    expect(sum8(f)).toBe(0);
    expect(u32(f, 4)).toBe(0xf1000);
  });
});

describe('SMBIOS', () => {
  it('builds a checksummed entry point and a terminated structure table', async () => {
    const { buildSmbiosTable, buildSmbiosEntry } = await import('./smbios');
    const t = buildSmbiosTable({ vendor: 'V', biosVersion: '1', biosDate: '01/01/2026', manufacturer: 'M', product: 'P', romBytes: 0x20000, romSegment: 0xe000 });
    expect(t.count).toBe(3);
    expect([...t.table.subarray(t.table.length - 6)]).toEqual([127, 4, 0x00, 0x7f, 0, 0]);
    const e = buildSmbiosEntry(0xf5000, t);
    expect(String.fromCharCode(...e.subarray(0, 4))).toBe('_SM_');
    expect(sum8(e)).toBe(0);
    expect(sum8(e, 0x10, 0x1f)).toBe(0);
    expect(u32(e, 0x18)).toBe(0xf5000);
  });
});

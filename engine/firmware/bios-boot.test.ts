// End-to-end: the machine with the built-in BIOS boots a boot sector (assembled here with
// the ROM byte emitter) that exercises INT 15h E820, INT 16h, INT 12h, INT 13h, INT 10h.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { Machine } from '../machine/machine';
import { MemoryBlockDevice } from '../storage/block-device';
import { RomBuilder } from './rom-builder';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Shared guest images live next to the repository: ../shared/guests.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guestPath = (name: string) => path.resolve(repoRoot, '../shared/guests', name);
const haveGuest = (name: string) => fs.existsSync(guestPath(name));


function testSector(): Uint8Array {
  const b = new RomBuilder(512, 0x7c00, 0, 0);
  b.u8(0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0); // xor ax,ax; mov ds,ax; mov es,ax
  b.u8(0x66, 0x31, 0xdb); // xor ebx,ebx
  b.u8(0xbf).u16(0x8000); // mov di,0x8000
  b.label('e820');
  b.u8(0x66, 0xb8).u32(0xe820); // mov eax,0xE820
  b.u8(0x66, 0xb9).u32(24); // mov ecx,24
  b.u8(0x66, 0xba).u32(0x534d4150); // mov edx,'SMAP'
  b.int(0x15);
  b.jc('e820_done');
  b.u8(0x83, 0xc7, 0x18); // add di,24
  b.u8(0xfe, 0x06).u16(0x7e00); // inc byte [0x7E00]
  b.u8(0x66, 0x85, 0xdb); // test ebx,ebx
  b.jnz('e820');
  b.label('e820_done');
  b.u8(0xb4, 0x05, 0xb9).u16(0x1e61).int(0x16); // mov ah,5; mov cx,0x1E61; int 16h
  b.u8(0xb4, 0x00).int(0x16); // mov ah,0; int 16h
  b.u8(0xa3).u16(0x7e02); // mov [0x7E02],ax
  b.int(0x12).u8(0xa3).u16(0x7e04); // int 12h; mov [0x7E04],ax
  b.u8(0xb8).u16(0x0201).u8(0xb9).u16(0x0001).u8(0xba).u16(0x0000).u8(0xbb).u16(0x9000); // ax,cx,dx,bx
  b.int(0x13).u8(0xa3).u16(0x7e08); // int 13h; mov [0x7E08],ax
  b.u8(0xb8).u16(0x0e4f).int(0x10).u8(0xb8).u16(0x0e4b).int(0x10); // teletype 'O' 'K'
  b.u8(0xc6, 0x06).u16(0x7e06).u8(0xaa); // mov byte [0x7E06],0xAA
  b.label('halt').hlt().jmpShort('halt');
  b.at(510).u8(0x55, 0xaa);
  return b.finish();
}

function vbeSector(): Uint8Array {
  const b = new RomBuilder(512, 0x7c00, 0, 0);
  b.u8(0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0); // xor ax,ax; mov ds,ax; mov es,ax
  b.u8(0xbf).u16(0x8000); // mov di,0x8000
  b.u8(0x66, 0xc7, 0x05).ascii('VBE2'); // mov dword [di],'VBE2'
  b.u8(0xb8).u16(0x4f00).int(0x10).u8(0xa3).u16(0x7e00);
  b.u8(0xb8).u16(0x4f01).u8(0xb9).u16(0x114).u8(0xbf).u16(0x8200).int(0x10).u8(0xa3).u16(0x7e02);
  b.u8(0xb8).u16(0x4f02).u8(0xbb).u16(0x4114).int(0x10).u8(0xa3).u16(0x7e04);
  b.u8(0xb8).u16(0x0e41).u8(0xb3, 0x0f).int(0x10); // teletype 'A', colour 15
  b.u8(0xc6, 0x06).u16(0x7e06).u8(0xaa);
  b.label('halt').hlt().jmpShort('halt');
  b.at(510).u8(0x55, 0xaa);
  return b.finish();
}

function modesSector(): Uint8Array {
  const b = new RomBuilder(512, 0x7c00, 0, 0);
  b.u8(0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0); // xor ax,ax; mov ds,ax; mov es,ax
  b.u8(0xb8).u16(0x0013).int(0x10); // mode 13h
  b.u8(0xb8).u16(0x0e41).u8(0xb3, 0x04).int(0x10); // 'A' in red
  b.u8(0xc6, 0x06).u16(0x7e00).u8(0x01); // progress marker, then wait for the test's go-ahead
  b.label('w1').u8(0x80, 0x3e).u16(0x7e01).u8(0x01).jnz('w1');
  b.u8(0xb8).u16(0x0012).int(0x10); // mode 12h
  b.u8(0xb8).u16(0x0e42).u8(0xb3, 0x0e).int(0x10); // 'B'
  b.u8(0xc6, 0x06).u16(0x7e00).u8(0x02);
  b.label('w2').u8(0x80, 0x3e).u16(0x7e01).u8(0x02).jnz('w2');
  b.u8(0xb8).u16(0x0003).int(0x10); // back to text
  b.u8(0xb8).u16(0x1112).u8(0xb3, 0x00).int(0x10); // 8x8 font: 80x50
  b.u8(0xb8).u16(0x0e43).int(0x10); // 'C'
  b.u8(0xc6, 0x06).u16(0x7e06).u8(0xaa);
  b.label('halt').hlt().jmpShort('halt');
  b.at(510).u8(0x55, 0xaa);
  return b.finish();
}

function runUntil(m: Machine, done: () => boolean, slices = 400, budget = 200_000): boolean {
  for (let i = 0; i < slices && !done(); i++) m.runSlice(budget);
  return done();
}

describe('built-in BIOS boot', () => {
  it('boots a floppy boot sector and serves INT 10h/12h/13h/15h/16h', () => {
    const sector = testSector();
    const m = new Machine({ memoryMiB: 32, firmware: 'builtin', deterministic: true, disks: { fda: new MemoryBlockDevice(sector.slice()) } });
    expect(runUntil(m, () => m.mem.read8(0x7e06) === 0xaa)).toBe(true);
    expect(m.mem.read8(0x7e00)).toBe(6); // E820 entries
    expect(m.mem.read32(0x8000 + 24 * 3)).toBe(0x100000);
    expect(m.mem.read32(0x8000 + 24 * 3 + 16)).toBe(1);
    expect(m.mem.read16(0x7e02)).toBe(0x1e61);
    expect(m.mem.read16(0x7e04)).toBe(639);
    expect(m.mem.read16(0x7e08)).toBe(0x0001); // AH=0, AL=1 sector
    expect([...m.mem.ram.subarray(0x9000, 0x9200)]).toEqual([...sector]);
    expect(m.textScreen()).toMatch(/Boxwood BIOS[\s\S]*OK/);
  });

  it('offers VBE 2.0 modes on the Bochs DISPI interface and draws text in them', () => {
    const m = new Machine({ memoryMiB: 32, firmware: 'builtin', deterministic: true, disks: { fda: new MemoryBlockDevice(vbeSector()) } });
    const modes: unknown[] = [];
    m.events.on('display-mode', (d) => modes.push(d));
    expect(runUntil(m, () => m.mem.read8(0x7e06) === 0xaa)).toBe(true);
    expect([m.mem.read16(0x7e00), m.mem.read16(0x7e02), m.mem.read16(0x7e04)]).toEqual([0x004f, 0x004f, 0x004f]);
    expect(String.fromCharCode(...m.mem.ram.subarray(0x8000, 0x8004))).toBe('VESA');
    expect(m.mem.read16(0x8004)).toBe(0x0200);
    const listPtr = m.mem.read32(0x800e) >>> 0;
    const list: number[] = [];
    for (let a = ((listPtr >>> 16) << 4) + (listPtr & 0xffff); m.mem.read16(a) !== 0xffff; a += 2) list.push(m.mem.read16(a));
    expect(list).toContain(0x114);
    expect(list).toContain(0x118);
    expect(m.mem.read16(0x8200 + 0x12)).toBe(800);
    expect(m.mem.read16(0x8200 + 0x14)).toBe(600);
    expect(m.mem.read8(0x8200 + 0x19)).toBe(16);
    const lfb = m.mem.read32(0x8200 + 0x28) >>> 0;
    expect(lfb).not.toBe(0);
    m.vga.updateDisplayMode();
    expect(modes.at(-1)).toMatchObject({ mode: 'graphics', width: 800, height: 600 });
    expect(m.textScreen()).toMatch(/^A/);
    // The glyph's pixels reached the framebuffer (16 bpp white).
    let lit = 0;
    for (let y = 0; y < 16; y++) for (let x = 0; x < 8; x++) if (m.mem.read16(lfb + y * 1600 + x * 2) === 0xffff) lit++;
    expect(lit).toBeGreaterThan(10);
    // The BIOS state (VBE mode, LFB) survives a machine snapshot.
    const m2 = Machine.restore(m.config, m.saveState());
    expect(m2.firmware!.saveState()).toEqual(m.firmware!.saveState());
    expect(m2.vga.updateDisplayMode()).toMatchObject({ mode: 'graphics', width: 800, height: 600 });
  });

  it('sets modes 13h, 12h and 80x50 text and writes text in each', () => {
    const m = new Machine({ memoryMiB: 32, firmware: 'builtin', deterministic: true, disks: { fda: new MemoryBlockDevice(modesSector()) } });
    expect(runUntil(m, () => m.mem.read8(0x7e00) === 1)).toBe(true);
    expect(m.textScreen()).toMatch(/^A/);
    let red = 0;
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) if (m.mem.read8(0xa0000 + y * 320 + x) === 4) red++;
    expect(red).toBeGreaterThan(8);
    m.mem.write8(0x7e01, 1);
    expect(runUntil(m, () => m.mem.read8(0x7e00) === 2)).toBe(true);
    expect(m.textScreen()).toMatch(/^B/);
    m.mem.write8(0x7e01, 2);
    expect(runUntil(m, () => m.mem.read8(0x7e06) === 0xaa)).toBe(true);
    expect(m.mem.read8(0x484)).toBe(49);
    expect(m.mem.read16(0x485)).toBe(8);
    m.vga.updateDisplayMode();
    expect(m.vga.updateDisplayMode()).toMatchObject({ mode: 'text', cols: 80, rows: 50 });
    expect(m.textScreen()).toMatch(/^C/);
  });

  it.skipIf(!haveGuest('hello.img'))('lets F12 pick the boot device', () => {
    const img = new Uint8Array(fs.readFileSync(guestPath('hello.img')));
    const m = new Machine({
      memoryMiB: 32, firmware: 'builtin', deterministic: true,
      disks: { hda: new MemoryBlockDevice(testSector()), fda: new MemoryBlockDevice(img) },
    });
    let serial = '';
    m.events.on('serial-output', ({ data }) => (serial += String.fromCharCode(...data)));
    // Small slices: halted time is skipped, so a large slice would let the 0.5 s window pass.
    expect(runUntil(m, () => /Press F12/.test(m.textScreen()), 100_000, 20)).toBe(true);
    // Make codes only: the i8042 keeps IRQ1 high when a second byte is queued behind the
    // first, so an edge-triggered PIC would not see the release byte (device issue, reported).
    m.keyboardInput([0x07]); // F12 (set 2)
    expect(runUntil(m, () => /Select a boot device/.test(m.textScreen()), 100_000, 20)).toBe(true);
    expect(m.textScreen()).toMatch(/1\. Hard disk\s+2\. Floppy/);
    m.keyboardInput([0x1e]); // '2'
    expect(runUntil(m, () => serial.includes('HELLO'), 2000, 20)).toBe(true);
    expect(m.mem.read8(0x7e06)).not.toBe(0xaa); // the hard disk's sector never ran
  });

  it.skipIf(!haveGuest('hello.img'))('boots hello.img from a hard disk: serial and screen say HELLO', () => {
    const img = new Uint8Array(fs.readFileSync(guestPath('hello.img')));
    const m = new Machine({ memoryMiB: 32, firmware: 'builtin', deterministic: true, disks: { hda: new MemoryBlockDevice(img) } });
    let serial = '';
    m.events.on('serial-output', ({ data }) => (serial += String.fromCharCode(...data)));
    expect(runUntil(m, () => /HELLO/.test(m.textScreen()) && serial.includes('HELLO'))).toBe(true);
    // POST left ACPI tables whose DSDT describes the PCI host bridge (dsdt.ts): RSDP → RSDT → FACP → DSDT.
    let rsdp = 0;
    for (let a = 0xe0000; a < 0x100000 && !rsdp; a += 16) if (m.mem.read32(a) === 0x20445352 && m.mem.read32(a + 4) === 0x20525450) rsdp = a;
    const rsdt = m.mem.read32(rsdp + 16);
    const facp = m.mem.read32(rsdt + 36);
    expect(m.mem.read32(facp)).toBe(0x50434146); // 'FACP'
    const dsdt = m.mem.read32(facp + 40);
    const len = m.mem.read32(dsdt + 4);
    const text = String.fromCharCode(...Array.from({ length: len }, (_, i) => m.mem.read8(dsdt + i)));
    expect(text.startsWith('DSDT')).toBe(true);
    for (const name of ['PCI0', '_PRT', 'LNKA', '_S5_']) expect(text).toContain(name);
  });
});

// The BIOS ROM image (128 KiB at 0xE0000-0xFFFFF, code segment F000): byte-emitted stubs
// that hand each service to TypeScript through the 0F 3F hypercall, the hardware IRQ
// handlers in plain x86, and the fixed-address tables DOS-era code expects.
//
// Every software-interrupt entry has the shape
//     int_nn:   0F 3F nn      ; TypeScript handler for vector nn
//               IRET          ; results in registers and the stacked FLAGS image
//     wait_nn:  STI / HLT / CLI / JMP int_nn
// A handler that must wait (INT 16h read with an empty buffer, INT 15h AH=86h) sets EIP to
// wait_nn: the CPU idles until the next interrupt and calls the handler again.
import { RomBuilder } from './rom-builder';

export const ROM_BASE = 0xe0000;
export const ROM_SIZE = 0x20000;
export const ROM_SEG = 0xf000;
export const ROM_SEG_BASE = 0xf0000;

/** Hypercall numbers that are not interrupt vectors. */
export const enum Hc {
  Post = 0xf0,
  BootMenu = 0xf1,
  Boot = 0xf2,
  Bios32 = 0xf4,
  Pci32 = 0xf5,
  KbdIrq = 0xf6,
}

/** Vectors whose entries call TypeScript. */
export const TS_VECTORS = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x1a, 0x40];

/** Classic fixed entry points (IBM AT compatible offsets in F000). */
export const FIXED = {
  post: 0xe05b,
  int09: 0xe987,
  configTable: 0xe6f5,
  dpt: 0xefc7,
  font8x8Low: 0xfa6e,
  int08: 0xfea5,
  dummyIret: 0xff53,
  reset: 0xfff0,
} as const;

export interface RomLayout {
  image: Uint8Array;
  /** F000 offsets of each TypeScript vector's entry and wait loop. */
  entry: Map<number, number>;
  wait: Map<number, number>;
  /** F000 offsets of other labels (boot path, IRQ handlers). */
  off: Record<string, number>;
  builder: RomBuilder;
}

/** Emit the code part of the ROM. Tables are added later by the BIOS (see bios.ts). */
export function buildRomCode(font8x8: Uint8Array): RomLayout {
  const b = new RomBuilder(ROM_SIZE, ROM_BASE, ROM_SEG_BASE, 0x00);
  const entry = new Map<number, number>();
  const wait = new Map<number, number>();

  // ---- Software interrupt entries, from F000:0100 ----
  b.atPhys(ROM_SEG_BASE + 0x100);
  for (const v of TS_VECTORS) {
    const name = `int${v.toString(16)}`;
    b.label(name).hypercall(v).iret();
    b.label(`${name}_wait`).sti().hlt().cli().jmpShort(name);
  }

  // ---- Boot path: POST hypercall, boot menu window, boot ----
  // The POST handler leaves SS:SP = 0:7C00 and interrupts masked; INT 19h enters at `boot`.
  b.label('boot').cli().xorAxAx().movSsAx().movSp(0x7c00).sti();
  b.label('menu').hypercall(Hc.BootMenu);
  b.hypercall(Hc.Boot); // pushes the target CS:IP and loads the boot registers, or goes to boot_fail
  b.retf();
  b.label('menu_wait').sti().hlt().jmpShort('menu');
  b.label('boot_fail').int(0x18);
  b.label('halt_loop').sti().hlt().jmpShort('halt_loop');

  // ---- Protected-mode entries (32-bit far calls from the OS) ----
  b.align(16);
  b.label('bios32_entry').hypercall(Hc.Bios32).retf32();
  b.label('pci32_entry').hypercall(Hc.Pci32).retf32();

  // ---- Default handlers for the hardware IRQs other than 0 and 1 ----
  b.label('irq_master').pushAx().movAl(0x20).outImmAl(0x20).popAx().iret();
  b.label('irq_slave').pushAx().movAl(0x20).outImmAl(0xa0).outImmAl(0x20).popAx().iret();
  // IRQ8 (RTC): read register C so the RTC deasserts its line, then EOI both PICs.
  b.label('irq8').pushAx().movAl(0x0c).outImmAl(0x70).inAlImm(0x71);
  b.movAl(0x20).outImmAl(0xa0).outImmAl(0x20).popAx().iret();

  // ---- POST entry (F000:E05B) ----
  b.atPhys(ROM_SEG_BASE + FIXED.post).label('post');
  b.cli().cld().xorAxAx().movSsAx().movSp(0x7c00);
  b.hypercall(Hc.Post);
  b.jmpNear('boot');

  // ---- Configuration table for INT 15h AH=C0h (F000:E6F5) ----
  b.atPhys(ROM_SEG_BASE + FIXED.configTable).label('config_table');
  // length 8; model FC (AT); submodel 01; BIOS revision 0;
  // feature 1: 0x70 = 2nd 8259, RTC, INT 15h/4Fh called by INT 09h (+0x04 EBDA allocated);
  // feature 2: 0x40 = INT 16h AH=09h supported.
  b.u16(8).u8(0xfc, 0x01, 0x00, 0x74, 0x40, 0x00, 0x00, 0x00);

  // ---- INT 09h keyboard IRQ (F000:E987) ----
  b.atPhys(ROM_SEG_BASE + FIXED.int09).label('int09');
  b.pushAx().inAlImm(0x60);
  b.movAh(0x4f).u8(0xf9 /* STC */).int(0x15); // keyboard intercept: CF=0 back means "drop it"
  b.jnc('int09_done');
  b.hypercall(Hc.KbdIrq); // translate AL into the BDA buffer / shift flags
  b.label('int09_done').cli().movAl(0x20).outImmAl(0x20).popAx().iret();

  // ---- Diskette parameter table (F000:EFC7), 1.44 MB values ----
  b.atPhys(ROM_SEG_BASE + FIXED.dpt).label('dpt');
  b.u8(0xaf, 0x02, 0x25, 0x02, 0x12, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08);

  // ---- 8x8 font, characters 0-127 (F000:FA6E), as the PC BIOS has it ----
  b.atPhys(ROM_SEG_BASE + FIXED.font8x8Low).label('font8x8_low').data(font8x8.subarray(0, 1024));

  // ---- INT 08h timer tick (F000:FEA5) ----
  b.atPhys(ROM_SEG_BASE + FIXED.int08).label('int08');
  b.pushAx().pushDs().xorAxAx().movDsAx();
  b.u8(0xff, 0x06).u16(0x46c); // inc word [0x46C]
  b.jnz('t_nocarry');
  b.u8(0xff, 0x06).u16(0x46e); // inc word [0x46E]
  b.label('t_nocarry');
  b.u8(0x83, 0x3e).u16(0x46e).u8(0x18); // cmp word [0x46E], 0x18
  b.jc('t_done');
  b.u8(0x81, 0x3e).u16(0x46c).u16(0xb0); // cmp word [0x46C], 0xB0 (0x1800B0 ticks = 24 h)
  b.jc('t_done');
  b.u8(0xc7, 0x06).u16(0x46c).u16(0); // mov word [0x46C], 0
  b.u8(0xc7, 0x06).u16(0x46e).u16(0); // mov word [0x46E], 0
  b.u8(0xc6, 0x06).u16(0x470).u8(1); // mov byte [0x470], 1 (midnight passed)
  b.label('t_done').int(0x1c);
  b.cli().movAl(0x20).outImmAl(0x20).popDs().popAx().iret();

  // ---- Dummy IRET (F000:FF53) ----
  b.atPhys(ROM_SEG_BASE + FIXED.dummyIret).label('iret').iret();

  // ---- Reset vector, BIOS date and model byte ----
  b.atPhys(ROM_SEG_BASE + FIXED.reset).label('reset').jmpFar(ROM_SEG, FIXED.post);
  b.atPhys(0xffff5).ascii('11/25/26');
  b.atPhys(0xffffe).u8(0xfc);

  for (const v of TS_VECTORS) {
    const name = `int${v.toString(16)}`;
    entry.set(v, b.segOffsetOf(name));
    wait.set(v, b.segOffsetOf(`${name}_wait`));
  }
  const off: Record<string, number> = {};
  for (const n of ['boot', 'menu', 'menu_wait', 'boot_fail', 'halt_loop', 'bios32_entry', 'pci32_entry', 'irq_master', 'irq_slave', 'irq8', 'post', 'config_table', 'int09', 'dpt', 'font8x8_low', 'int08', 'iret', 'reset']) {
    off[n] = b.segOffsetOf(n);
  }
  return { image: b.bytes, entry, wait, off, builder: b };
}

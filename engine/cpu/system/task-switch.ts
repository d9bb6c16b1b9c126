// Hardware task switching (SDM Vol. 3 7.3), for JMP/CALL to a TSS or task gate,
// interrupts through task gates and IRET with NT set.
//
// Faults found before the commit point (new TSS unreadable or too small, bad
// descriptors) are ordinary CpuFaults in the old task's context. Once the old
// state has been saved and TR loaded, faults belong to the new task: they are
// thrown wrapped in TaskFault so callers deliver them without rolling back.
import type { CpuCore } from '../core';
import { CpuFault, Seg, Vec, CR0_PG, CR0_TS, FLAG_NT, FLAG_VM } from '../state';
import {
  SysType,
  descBase,
  descBit2,
  descDpl,
  descIsCode,
  descIsSegment,
  descLimit,
  descPresent,
  descType,
  fetchDescriptor,
  loadCache,
  loadNull,
  loadV86,
  markAccessed,
  setBusy,
  type Descriptor,
} from './descriptors';
import { loadProtected } from './segments';

export const enum TaskSource {
  Jump = 0,
  Call = 1,
  Iret = 2,
  Interrupt = 3,
}

/** A fault raised after a task switch committed: deliver it in the new task, do not roll back. Never escapes the system layer. */
export class TaskFault {
  constructor(readonly fault: CpuFault) {}
}

/** DR6.BT: debug trap caused by the T bit of the new TSS. */
const DR6_BT = 1 << 15;

/** Segment slots in TSS order (ES, CS, SS, DS, FS, GS) — the same as Seg numbering. */
const SEG_ORDER = [Seg.ES, Seg.CS, Seg.SS, Seg.DS, Seg.FS, Seg.GS];

/**
 * Switch to the task whose TSS descriptor `d` (selector `sel`) was already checked
 * by the caller for type, privilege and presence. `nextEip` is the EIP saved into
 * the outgoing TSS.
 */
export function taskSwitch(cpu: CpuCore, sel: number, d: Descriptor, source: TaskSource, ext: number, nextEip: number): void {
  const newIs32 = (descType(d) & 8) !== 0;
  const newBase = descBase(d);
  const newLimit = descLimit(d);
  if (newLimit < (newIs32 ? 0x67 : 0x2b)) throw new CpuFault(Vec.TS, (sel & 0xfffc) | ext);

  const oldSel = cpu.segSel[Seg.TR];
  const oldBase = cpu.segBase[Seg.TR];
  const oldIs32 = (cpu.segAccess[Seg.TR] & 8) !== 0;
  if (cpu.segLimit[Seg.TR] < (oldIs32 ? 0x5f : 0x29)) throw new CpuFault(Vec.TS, (oldSel & 0xfffc) | ext);

  // Read the whole incoming state before touching anything (page faults here are the old task's).
  const regs = new Int32Array(8);
  const segs = new Array<number>(6);
  let eip: number, eflags: number, ldt: number, cr3 = 0, trap = false;
  if (newIs32) {
    cr3 = cpu.readSys32(newBase + 0x1c);
    eip = cpu.readSys32(newBase + 0x20);
    eflags = cpu.readSys32(newBase + 0x24);
    for (let i = 0; i < 8; i++) regs[i] = cpu.readSys32(newBase + 0x28 + i * 4);
    for (let i = 0; i < 6; i++) segs[i] = cpu.readSys16(newBase + 0x48 + i * 4);
    ldt = cpu.readSys16(newBase + 0x60);
    trap = (cpu.readSys16(newBase + 0x64) & 1) !== 0;
  } else {
    eip = cpu.readSys16(newBase + 0x0e);
    eflags = cpu.readSys16(newBase + 0x10);
    // 16-bit TSSs hold only the low halves; the upper halves keep their current values (as QEMU does).
    for (let i = 0; i < 8; i++) regs[i] = (cpu.reg32[i] & 0xffff0000) | cpu.readSys16(newBase + 0x12 + i * 2);
    for (let i = 0; i < 4; i++) segs[i] = cpu.readSys16(newBase + 0x22 + i * 2);
    segs[4] = 0;
    segs[5] = 0;
    ldt = cpu.readSys16(newBase + 0x2a);
  }

  // ---- Save the outgoing task ----
  let oldFlags = cpu.getEflags();
  if (source === TaskSource.Jump || source === TaskSource.Iret) {
    const od = fetchDescriptor(cpu, oldSel, Vec.TS, ext);
    setBusy(cpu, od, false);
  }
  if (source === TaskSource.Iret) oldFlags &= ~FLAG_NT; // the nesting is being unwound
  if (oldIs32) {
    cpu.writeSys32(oldBase + 0x20, nextEip);
    cpu.writeSys32(oldBase + 0x24, oldFlags);
    for (let i = 0; i < 8; i++) cpu.writeSys32(oldBase + 0x28 + i * 4, cpu.reg32[i]);
    for (let i = 0; i < 6; i++) cpu.writeSys16(oldBase + 0x48 + i * 4, cpu.segSel[SEG_ORDER[i]]);
  } else {
    cpu.writeSys16(oldBase + 0x0e, nextEip);
    cpu.writeSys16(oldBase + 0x10, oldFlags);
    for (let i = 0; i < 8; i++) cpu.writeSys16(oldBase + 0x12 + i * 2, cpu.reg32[i]);
    for (let i = 0; i < 4; i++) cpu.writeSys16(oldBase + 0x22 + i * 2, cpu.segSel[SEG_ORDER[i]]);
  }

  // ---- Commit: link, busy bit, TR ----
  if (source === TaskSource.Call || source === TaskSource.Interrupt) {
    cpu.writeSys16(newBase, oldSel);
    eflags |= FLAG_NT;
  }
  if (source !== TaskSource.Iret) setBusy(cpu, d, true); // IRET returns to a task that is still busy
  loadCache(cpu, Seg.TR, sel, d);
  cpu.cr0 |= CR0_TS;
  // Local breakpoint enables (L0-L3) belong to the outgoing task (SDM 17.2.4).
  cpu.dr[7] &= ~0x55;

  // ---- Load the incoming state ----
  if (newIs32 && (cpu.cr0 & CR0_PG) !== 0) {
    cpu.cr3 = cr3;
    cpu.flushTlb(false);
  }
  cpu.eip = newIs32 ? eip >>> 0 : eip & 0xffff;
  // A 16-bit TSS holds FLAGS only: the upper EFLAGS bits stay, except VM (a 286 task is never v86).
  if (newIs32) cpu.setEflags(eflags);
  else cpu.setEflags(eflags & 0xffff, 0xffff | FLAG_VM);
  cpu.reg32.set(regs);
  const v86 = newIs32 && (eflags & FLAG_VM) !== 0;
  // Selectors first, descriptors after: a fault below leaves the selectors visible but the caches unusable.
  for (let i = 0; i < 6; i++) loadNull(cpu, SEG_ORDER[i], segs[i]);
  cpu.cpl = v86 ? 3 : segs[1] & 3;
  if (trap) cpu.pendingDebugTrap |= DR6_BT;

  try {
    loadLdt(cpu, ldt, ext);
    if (v86) {
      for (let i = 0; i < 6; i++) loadV86(cpu, SEG_ORDER[i], segs[i]);
    } else {
      loadTaskCs(cpu, segs[1], ext);
      loadProtected(cpu, Seg.SS, segs[2], cpu.cpl, Vec.TS, ext);
      loadProtected(cpu, Seg.ES, segs[0], cpu.cpl, Vec.TS, ext);
      loadProtected(cpu, Seg.DS, segs[3], cpu.cpl, Vec.TS, ext);
      loadProtected(cpu, Seg.FS, segs[4], cpu.cpl, Vec.TS, ext);
      loadProtected(cpu, Seg.GS, segs[5], cpu.cpl, Vec.TS, ext);
    }
    // The new EIP must lie in the new CS (the fault belongs to the new task).
    if (cpu.eip > cpu.segLimit[Seg.CS]) throw new CpuFault(Vec.GP, 0);
  } catch (e) {
    cpu.updateModeCaches();
    if (e instanceof CpuFault) throw new TaskFault(e);
    throw e;
  }
  cpu.updateModeCaches();
}

function loadLdt(cpu: CpuCore, ldt: number, ext: number): void {
  if ((ldt & 0xfffc) === 0) {
    loadNull(cpu, Seg.LDTR, ldt);
    return;
  }
  const err = (ldt & 0xfffc) | ext;
  if ((ldt & 4) !== 0) throw new CpuFault(Vec.TS, err);
  const d = fetchDescriptor(cpu, ldt, Vec.TS, ext);
  if (descIsSegment(d) || descType(d) !== SysType.Ldt || !descPresent(d)) throw new CpuFault(Vec.TS, err);
  loadCache(cpu, Seg.LDTR, ldt, d);
}

function loadTaskCs(cpu: CpuCore, sel: number, ext: number): void {
  const err = (sel & 0xfffc) | ext;
  if ((sel & 0xfffc) === 0) throw new CpuFault(Vec.TS, err);
  const d = fetchDescriptor(cpu, sel, Vec.TS, ext);
  const rpl = sel & 3;
  if (!descIsCode(d)) throw new CpuFault(Vec.TS, err);
  if (descBit2(d) ? descDpl(d) > rpl : descDpl(d) !== rpl) throw new CpuFault(Vec.TS, err);
  if (!descPresent(d)) throw new CpuFault(Vec.NP, err);
  markAccessed(cpu, d);
  loadCache(cpu, Seg.CS, sel, d);
}

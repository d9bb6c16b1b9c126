// Far JMP, far CALL, far RET and IRET in real, virtual-8086 and protected mode
// (SDM Vol. 2 JMP/CALL/RET/IRET pseudo-code; Vol. 3 5.8 call gates, 7.3 tasks).
//
// Contract with the interpreter:
//  - `offset` is already sized (a 16-bit operand gives a zero-extended 16-bit offset).
//  - cpu.eip is the address of the next instruction when these are called: a task
//    switch saves it into the outgoing TSS (farCall saves `returnEip`).
//  - On a fault, state is rolled back to what it was on entry before the CpuFault is
//    thrown. A fault raised in a new task after a task switch committed is delivered
//    here instead (it belongs to the new task), and the call returns normally.
import type { CpuCore } from '../core';
import {
  CpuFault,
  EventKind,
  Reg,
  Seg,
  Vec,
  CR0_PE,
  CR4_VME,
  FLAG_AC,
  FLAG_AF,
  FLAG_CF,
  FLAG_DF,
  FLAG_ID,
  FLAG_IF,
  FLAG_IOPL,
  FLAG_NT,
  FLAG_OF,
  FLAG_PF,
  FLAG_RF,
  FLAG_SF,
  FLAG_TF,
  FLAG_VIF,
  FLAG_VIP,
  FLAG_VM,
  FLAG_ZF,
  SEG_ACCESS_DB,
} from '../state';
import {
  SysType,
  descAccess,
  descBase,
  descBit1,
  descBit2,
  descDpl,
  descIsCode,
  descIsData,
  descIsSegment,
  descLimit,
  descPresent,
  descType,
  fetchDescriptor,
  gateOffset,
  gateParamCount,
  gateSelector,
  loadCache,
  loadNull,
  loadReal,
  loadV86,
  markAccessed,
  type Descriptor,
} from './descriptors';
import { StackPtr, restore, snapshot } from './stack';
import { tssStack } from './tss';
import { TaskFault, TaskSource, taskSwitch } from './task-switch';
import { deliverNested } from './interrupts';

/** Run a transfer; on a fault roll back and rethrow; deliver post-task-switch faults in the new task. */
function guarded(cpu: CpuCore, fn: () => void): void {
  const snap = snapshot(cpu);
  try {
    fn();
  } catch (e) {
    if (e instanceof TaskFault) {
      deliverNested(cpu, e.fault.vector, EventKind.Exception, e.fault.errorCode);
      return;
    }
    if (e instanceof CpuFault) restore(cpu, snap);
    throw e;
  }
}

const isV86 = (cpu: CpuCore): boolean => (cpu.getEflags() & FLAG_VM) !== 0;

/** Add to ESP/SP according to the stack size (SS.B). */
function adjustSp(cpu: CpuCore, n: number): void {
  const esp = cpu.reg32[Reg.ESP];
  cpu.reg32[Reg.ESP] = (cpu.segAccess[Seg.SS] & SEG_ACCESS_DB) !== 0 ? (esp + n) | 0 : (esp & ~0xffff) | ((esp + n) & 0xffff);
}

/** Real or v86 CS limit check (v86 CS is always 64 KiB; real mode keeps the cached limit). */
function checkLegacyOffset(cpu: CpuCore, offset: number): void {
  const limit = isV86(cpu) ? 0xffff : cpu.segLimit[Seg.CS];
  if (offset >>> 0 > limit) throw new CpuFault(Vec.GP, 0);
}

/**
 * Real or v86 CS:EIP load, after checking the offset. Callers only pop/push before
 * it, so on a fault restoring ESP (legacyGuard) undoes everything.
 */
function loadCsLegacy(cpu: CpuCore, sel: number, offset: number): void {
  checkLegacyOffset(cpu, offset);
  if (isV86(cpu)) loadV86(cpu, Seg.CS, sel);
  else loadReal(cpu, Seg.CS, sel);
  cpu.eip = offset >>> 0;
  cpu.updateModeCaches();
}

/** Real/v86 transfers change only ESP before their last fault: restoring it is a full rollback, and far cheaper than a snapshot. */
function legacyGuard(cpu: CpuCore, fn: () => void): void {
  const esp = cpu.reg32[Reg.ESP];
  try {
    fn();
  } catch (e) {
    cpu.reg32[Reg.ESP] = esp;
    throw e;
  }
}

// ---------------------------------------------------------------- JMP

/** `o32` does not change a far JMP's effect once the offset is sized; kept for symmetry with farCall. */
export function farJump(cpu: CpuCore, selector: number, offset: number, _o32: boolean): void {
  const sel = selector & 0xffff;
  if ((cpu.cr0 & CR0_PE) === 0 || isV86(cpu)) {
    loadCsLegacy(cpu, sel, offset);
    return;
  }
  guarded(cpu, () => jumpProtected(cpu, sel, offset >>> 0));
}

function jumpProtected(cpu: CpuCore, sel: number, offset: number): void {
  if ((sel & 0xfffc) === 0) throw new CpuFault(Vec.GP, 0);
  const d = fetchDescriptor(cpu, sel);
  const cpl = cpu.cpl;
  const err = sel & 0xfffc;
  if (descIsSegment(d)) {
    checkDirectCode(d, sel, cpl);
    if (offset > descLimit(d)) throw new CpuFault(Vec.GP, 0);
    enterCode(cpu, sel, d, cpl, offset);
    return;
  }
  const type = descType(d);
  const dpl = descDpl(d);
  switch (type) {
    case SysType.CallGate16:
    case SysType.CallGate32: {
      if (dpl < cpl || dpl < (sel & 3)) throw new CpuFault(Vec.GP, err);
      if (!descPresent(d)) throw new CpuFault(Vec.NP, err);
      const tsel = gateSelector(d);
      if ((tsel & 0xfffc) === 0) throw new CpuFault(Vec.GP, 0);
      const td = fetchDescriptor(cpu, tsel);
      const terr = tsel & 0xfffc;
      // JMP through a gate never changes privilege: conforming DPL <= CPL, else DPL == CPL.
      if (!descIsCode(td) || (descBit2(td) ? descDpl(td) > cpl : descDpl(td) !== cpl)) throw new CpuFault(Vec.GP, terr);
      if (!descPresent(td)) throw new CpuFault(Vec.NP, terr);
      const off = gateOffset(d);
      if (off > descLimit(td)) throw new CpuFault(Vec.GP, 0);
      enterCode(cpu, tsel, td, cpl, off);
      return;
    }
    case SysType.TaskGate:
    case SysType.Tss16Avail:
    case SysType.Tss32Avail: {
      if (dpl < cpl || dpl < (sel & 3)) throw new CpuFault(Vec.GP, err);
      if (type !== SysType.TaskGate && (sel & 4) !== 0) throw new CpuFault(Vec.GP, err); // TSS descriptors live in the GDT only
      if (!descPresent(d)) throw new CpuFault(Vec.NP, err);
      const [tsel, td] = type === SysType.TaskGate ? taskGateTarget(cpu, d) : [sel, d];
      taskSwitch(cpu, tsel, td, TaskSource.Jump, 0, cpu.eip);
      return;
    }
    default:
      throw new CpuFault(Vec.GP, err);
  }
}

/** Direct JMP/CALL to a code segment: conforming DPL <= CPL; non-conforming RPL <= CPL and DPL == CPL. */
function checkDirectCode(d: Descriptor, sel: number, cpl: number): void {
  const err = sel & 0xfffc;
  if (!descIsCode(d)) throw new CpuFault(Vec.GP, err);
  if (descBit2(d)) {
    if (descDpl(d) > cpl) throw new CpuFault(Vec.GP, err);
  } else if ((sel & 3) > cpl || descDpl(d) !== cpl) throw new CpuFault(Vec.GP, err);
  if (!descPresent(d)) throw new CpuFault(Vec.NP, err);
}

/** The TSS a task gate names: must be an available TSS in the GDT. */
function taskGateTarget(cpu: CpuCore, gate: Descriptor): [number, Descriptor] {
  const tsel = gateSelector(gate);
  const terr = tsel & 0xfffc;
  if ((tsel & 4) !== 0) throw new CpuFault(Vec.GP, terr);
  const td = fetchDescriptor(cpu, tsel);
  const t = descType(td);
  if (descIsSegment(td) || (t !== SysType.Tss16Avail && t !== SysType.Tss32Avail)) throw new CpuFault(Vec.GP, terr);
  if (!descPresent(td)) throw new CpuFault(Vec.NP, terr);
  return [tsel, td];
}

/** Load CS (RPL forced to `cpl`) and EIP. */
function enterCode(cpu: CpuCore, sel: number, d: Descriptor, cpl: number, offset: number): void {
  markAccessed(cpu, d);
  loadCache(cpu, Seg.CS, (sel & 0xfffc) | cpl, d);
  cpu.cpl = cpl;
  cpu.eip = offset;
  cpu.updateModeCaches();
}

// ---------------------------------------------------------------- CALL

export function farCall(cpu: CpuCore, selector: number, offset: number, o32: boolean, returnEip: number): void {
  const sel = selector & 0xffff;
  if ((cpu.cr0 & CR0_PE) === 0 || isV86(cpu)) {
    legacyGuard(cpu, () => {
      checkLegacyOffset(cpu, offset); // the limit is checked before the pushes
      if (o32) {
        cpu.push32(cpu.segSel[Seg.CS]);
        cpu.push32(returnEip);
      } else {
        cpu.push16(cpu.segSel[Seg.CS]);
        cpu.push16(returnEip);
      }
      loadCsLegacy(cpu, sel, offset);
    });
    return;
  }
  guarded(cpu, () => callProtected(cpu, sel, offset >>> 0, o32, returnEip));
}

function callProtected(cpu: CpuCore, sel: number, offset: number, o32: boolean, returnEip: number): void {
  if ((sel & 0xfffc) === 0) throw new CpuFault(Vec.GP, 0);
  const d = fetchDescriptor(cpu, sel);
  const cpl = cpu.cpl;
  const err = sel & 0xfffc;
  const oldCs = cpu.segSel[Seg.CS];
  if (descIsSegment(d)) {
    checkDirectCode(d, sel, cpl);
    const stk = StackPtr.current(cpu);
    stk.checkPush(o32 ? 8 : 4, 0);
    if (offset > descLimit(d)) throw new CpuFault(Vec.GP, 0);
    stk.push(cpu, oldCs, o32);
    stk.push(cpu, returnEip, o32);
    stk.commit(cpu);
    enterCode(cpu, sel, d, cpl, offset);
    return;
  }
  const type = descType(d);
  const dpl = descDpl(d);
  switch (type) {
    case SysType.CallGate16:
    case SysType.CallGate32:
      if (dpl < cpl || dpl < (sel & 3)) throw new CpuFault(Vec.GP, err);
      if (!descPresent(d)) throw new CpuFault(Vec.NP, err);
      callGate(cpu, d, returnEip);
      return;
    case SysType.TaskGate:
    case SysType.Tss16Avail:
    case SysType.Tss32Avail: {
      if (dpl < cpl || dpl < (sel & 3)) throw new CpuFault(Vec.GP, err);
      if (type !== SysType.TaskGate && (sel & 4) !== 0) throw new CpuFault(Vec.GP, err); // TSS descriptors live in the GDT only
      if (!descPresent(d)) throw new CpuFault(Vec.NP, err);
      const [tsel, td] = type === SysType.TaskGate ? taskGateTarget(cpu, d) : [sel, d];
      taskSwitch(cpu, tsel, td, TaskSource.Call, 0, returnEip);
      return;
    }
    default:
      throw new CpuFault(Vec.GP, err);
  }
}

/** CALL through a call gate, with the inner-privilege stack switch and parameter copy (SDM 5.8.5). */
function callGate(cpu: CpuCore, gate: Descriptor, returnEip: number): void {
  const cpl = cpu.cpl;
  const tsel = gateSelector(gate);
  if ((tsel & 0xfffc) === 0) throw new CpuFault(Vec.GP, 0);
  const td = fetchDescriptor(cpu, tsel);
  const terr = tsel & 0xfffc;
  const dpl = descDpl(td);
  if (!descIsCode(td) || dpl > cpl) throw new CpuFault(Vec.GP, terr);
  if (!descPresent(td)) throw new CpuFault(Vec.NP, terr);
  const gate32 = descType(gate) === SysType.CallGate32;
  const size = gate32 ? 4 : 2;
  const off = gateOffset(gate);
  const oldCs = cpu.segSel[Seg.CS];

  if (!descBit2(td) && dpl < cpl) {
    const { ss, esp } = tssStack(cpu, dpl, 0);
    const ssErr = ss & 0xfffc;
    if ((ss & 0xfffc) === 0) throw new CpuFault(Vec.TS, 0);
    if ((ss & 3) !== dpl) throw new CpuFault(Vec.TS, ssErr);
    const sd = fetchDescriptor(cpu, ss, Vec.TS);
    if (descDpl(sd) !== dpl || !descIsData(sd) || !descBit1(sd)) throw new CpuFault(Vec.TS, ssErr);
    if (!descPresent(sd)) throw new CpuFault(Vec.SS, ssErr);
    const count = gateParamCount(gate);
    const stk = new StackPtr(descBase(sd), descLimit(sd), descAccess(sd), esp);
    stk.checkPush((4 + count) * size, ssErr);
    if (off > descLimit(td)) throw new CpuFault(Vec.GP, 0);
    // Parameters are read from the caller's stack with the caller's privilege.
    const old = StackPtr.current(cpu);
    old.checkPop(count * size, 0);
    const params: number[] = [];
    for (let i = 0; i < count; i++) params.push(old.peek(cpu, i * size, gate32));
    cpu.cpl = dpl;
    stk.push(cpu, cpu.segSel[Seg.SS], gate32);
    stk.push(cpu, cpu.reg32[Reg.ESP], gate32);
    for (let i = count - 1; i >= 0; i--) stk.push(cpu, params[i], gate32);
    stk.push(cpu, oldCs, gate32);
    stk.push(cpu, returnEip, gate32);
    markAccessed(cpu, sd);
    loadCache(cpu, Seg.SS, ss, sd);
    cpu.reg32[Reg.ESP] = stk.esp;
    enterCode(cpu, tsel, td, dpl, off);
    return;
  }
  // Same privilege (conforming target, or DPL == CPL).
  if (!descBit2(td) && dpl !== cpl) throw new CpuFault(Vec.GP, terr);
  const stk = StackPtr.current(cpu);
  stk.checkPush(2 * size, 0);
  if (off > descLimit(td)) throw new CpuFault(Vec.GP, 0);
  stk.push(cpu, oldCs, gate32);
  stk.push(cpu, returnEip, gate32);
  stk.commit(cpu);
  enterCode(cpu, tsel, td, cpl, off);
}

// ---------------------------------------------------------------- RET

export function farReturn(cpu: CpuCore, o32: boolean, popBytes: number): void {
  if ((cpu.cr0 & CR0_PE) === 0 || isV86(cpu)) {
    legacyGuard(cpu, () => {
      const eip = o32 ? cpu.pop32() >>> 0 : cpu.pop16();
      const cs = (o32 ? cpu.pop32() : cpu.pop16()) & 0xffff;
      loadCsLegacy(cpu, cs, eip);
      adjustSp(cpu, popBytes);
    });
    return;
  }
  guarded(cpu, () => returnProtected(cpu, o32, popBytes));
}

/** Protected-mode far RET (imm16 = popBytes), to the same or an outer privilege level. */
function returnProtected(cpu: CpuCore, o32: boolean, popBytes: number): void {
  const stk = StackPtr.current(cpu);
  const size = o32 ? 4 : 2;
  stk.checkPop(2 * size, 0);
  const eip = stk.pop(cpu, o32) >>> 0;
  const cs = stk.pop(cpu, o32) & 0xffff;
  const target = checkReturnCs(cpu, cs);
  stk.skip(popBytes);
  if ((cs & 3) === cpu.cpl) {
    if (eip > descLimit(target)) throw new CpuFault(Vec.GP, 0);
    stk.commit(cpu);
    enterCode(cpu, cs, target, cs & 3, eip);
    return;
  }
  stk.checkPop(2 * size, 0);
  const esp = stk.pop(cpu, o32);
  const ss = stk.pop(cpu, o32) & 0xffff;
  returnToOuter(cpu, cs, target, eip, ss, o32 ? esp : esp & 0xffff, popBytes, -1, 0);
}

/** RET/IRET target CS: RPL >= CPL; conforming DPL <= RPL, non-conforming DPL == RPL; present. */
function checkReturnCs(cpu: CpuCore, cs: number): Descriptor {
  const err = cs & 0xfffc;
  if ((cs & 0xfffc) === 0) throw new CpuFault(Vec.GP, 0);
  if ((cs & 3) < cpu.cpl) throw new CpuFault(Vec.GP, err);
  const d = fetchDescriptor(cpu, cs);
  if (!descIsCode(d)) throw new CpuFault(Vec.GP, err);
  if (descBit2(d) ? descDpl(d) > (cs & 3) : descDpl(d) !== (cs & 3)) throw new CpuFault(Vec.GP, err);
  if (!descPresent(d)) throw new CpuFault(Vec.NP, err);
  return d;
}

/**
 * Return to an outer privilege level: validate the outer SS, switch stacks, apply
 * RET imm16 to the new stack, write EFLAGS (IRET, with the old CPL's rights) and
 * drop data segments the outer level may not use.
 */
function returnToOuter(
  cpu: CpuCore,
  cs: number,
  target: Descriptor,
  eip: number,
  ss: number,
  esp: number,
  popBytes: number,
  flags: number,
  flagsMask: number,
): void {
  const rpl = cs & 3;
  const ssErr = ss & 0xfffc;
  if ((ss & 0xfffc) === 0) throw new CpuFault(Vec.GP, 0);
  if ((ss & 3) !== rpl) throw new CpuFault(Vec.GP, ssErr);
  const sd = fetchDescriptor(cpu, ss);
  if (!descIsData(sd) || !descBit1(sd) || descDpl(sd) !== rpl) throw new CpuFault(Vec.GP, ssErr);
  if (!descPresent(sd)) throw new CpuFault(Vec.SS, ssErr);
  if (eip > descLimit(target)) throw new CpuFault(Vec.GP, 0);
  if (flagsMask !== 0) cpu.setEflags(flags, flagsMask);
  markAccessed(cpu, sd);
  loadCache(cpu, Seg.SS, ss, sd);
  if ((sd.hi & 0x400000) !== 0) cpu.reg32[Reg.ESP] = esp;
  else cpu.reg32[Reg.ESP] = (cpu.reg32[Reg.ESP] & ~0xffff) | (esp & 0xffff);
  enterCode(cpu, cs, target, rpl, eip);
  adjustSp(cpu, popBytes);
  revalidate(cpu, Seg.ES);
  revalidate(cpu, Seg.DS);
  revalidate(cpu, Seg.FS);
  revalidate(cpu, Seg.GS);
}

/**
 * After a return to outer privilege, a data or non-conforming code segment more
 * privileged than the new CPL becomes null (SDM RET/IRET). A register already
 * holding a null selector has a DPL-0 cache, so it is nulled too (its RPL is
 * dropped), except FS/GS, which keep their selector as on QEMU.
 */
function revalidate(cpu: CpuCore, seg: Seg): void {
  if ((seg === Seg.FS || seg === Seg.GS) && (cpu.segSel[seg] & 0xfffc) === 0) return;
  const a = cpu.segAccess[seg];
  const conformingCode = (a & 0x1c) === 0x1c;
  if (!conformingCode && ((a >>> 5) & 3) < cpu.cpl) loadNull(cpu, seg, 0);
}

// ---------------------------------------------------------------- IRET

const STATUS = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF | FLAG_TF | FLAG_DF | FLAG_NT;

export function interruptReturn(cpu: CpuCore, o32: boolean): void {
  if ((cpu.cr0 & CR0_PE) === 0) legacyGuard(cpu, () => iretReal(cpu, o32));
  else if (isV86(cpu)) legacyGuard(cpu, () => iretV86(cpu, o32));
  else guarded(cpu, () => iretProtected(cpu, o32));
  // IRET ends NMI blocking whatever path it took.
  cpu.nmiBlocked = false;
}

function iretReal(cpu: CpuCore, o32: boolean): void {
  if (o32) {
    const eip = cpu.pop32() >>> 0;
    const cs = cpu.pop32() & 0xffff;
    const flags = cpu.pop32();
    loadCsLegacy(cpu, cs, eip);
    // SDM IRET real mode: EFLAGS <- pop AND 257FD5H, VM/VIF/VIP kept.
    cpu.setEflags(flags, 0x257fd5);
  } else {
    const ip = cpu.pop16();
    const cs = cpu.pop16();
    const flags = cpu.pop16();
    loadCsLegacy(cpu, cs, ip);
    cpu.setEflags(flags, 0x7fd5);
  }
  cpu.updateModeCaches();
}

function iretV86(cpu: CpuCore, o32: boolean): void {
  const flags = cpu.getEflags();
  if ((flags & FLAG_IOPL) === FLAG_IOPL) {
    // IOPL 3: an 8086-style IRET that cannot touch IOPL (or VM/VIF/VIP).
    const eip = o32 ? cpu.pop32() >>> 0 : cpu.pop16();
    const cs = (o32 ? cpu.pop32() : cpu.pop16()) & 0xffff;
    const f = o32 ? cpu.pop32() : cpu.pop16();
    loadCsLegacy(cpu, cs, eip);
    const mask = STATUS | FLAG_IF | (o32 ? FLAG_RF | FLAG_AC | FLAG_ID : 0);
    cpu.setEflags(f, mask);
    cpu.updateModeCaches();
    return;
  }
  if ((cpu.cr4 & CR4_VME) === 0 || o32) throw new CpuFault(Vec.GP, 0);
  // VME with IOPL < 3 (SDM 20.3.3.4): IF goes to VIF; refuse to enable a pending VIF or TF.
  const stk = StackPtr.current(cpu);
  stk.checkPop(6, 0);
  const ip = stk.pop16(cpu);
  const cs = stk.pop16(cpu);
  const f = stk.pop16(cpu);
  if (((flags & FLAG_VIP) !== 0 && (f & FLAG_IF) !== 0) || (f & FLAG_TF) !== 0) throw new CpuFault(Vec.GP, 0);
  stk.commit(cpu);
  loadCsLegacy(cpu, cs, ip);
  cpu.setEflags((f & STATUS) | ((f & FLAG_IF) !== 0 ? FLAG_VIF : 0), STATUS | FLAG_VIF);
  cpu.updateModeCaches();
}

function iretProtected(cpu: CpuCore, o32: boolean): void {
  const flags = cpu.getEflags();
  if ((flags & FLAG_NT) !== 0) {
    iretTask(cpu);
    return;
  }
  const stk = StackPtr.current(cpu);
  const size = o32 ? 4 : 2;
  stk.checkPop(3 * size, 0);
  const eip = stk.pop(cpu, o32) >>> 0;
  const cs = stk.pop(cpu, o32) & 0xffff;
  const newFlags = stk.pop(cpu, o32);
  const cpl = cpu.cpl;

  if (o32 && (newFlags & FLAG_VM) !== 0 && cpl === 0) {
    iretToV86(cpu, stk, eip, cs, newFlags);
    return;
  }

  // Writable EFLAGS bits for IRET from the current (pre-return) privilege.
  let mask = STATUS | (o32 ? FLAG_RF | FLAG_AC | FLAG_ID : 0);
  if (cpl === 0) mask |= FLAG_IOPL | (o32 ? FLAG_VIF | FLAG_VIP : 0);
  if (cpl <= ((flags & FLAG_IOPL) >>> 12)) mask |= FLAG_IF;

  const target = checkReturnCs(cpu, cs);
  if ((cs & 3) === cpl) {
    if (eip > descLimit(target)) throw new CpuFault(Vec.GP, 0);
    stk.commit(cpu);
    cpu.setEflags(newFlags, mask);
    enterCode(cpu, cs, target, cpl, eip);
    return;
  }
  stk.checkPop(2 * size, 0);
  const esp = stk.pop(cpu, o32);
  const ss = stk.pop(cpu, o32) & 0xffff;
  returnToOuter(cpu, cs, target, eip, ss, o32 ? esp : esp & 0xffff, 0, newFlags, mask);
}

/** IRET at CPL 0 with VM in the popped EFLAGS: resume a virtual-8086 task (SDM IRET "RETURN-TO-VIRTUAL-8086-MODE"). */
function iretToV86(cpu: CpuCore, stk: StackPtr, eip: number, cs: number, newFlags: number): void {
  stk.checkPop(24, 0);
  const esp = stk.pop32(cpu);
  const ss = stk.pop32(cpu);
  const es = stk.pop32(cpu);
  const ds = stk.pop32(cpu);
  const fs = stk.pop32(cpu);
  const gs = stk.pop32(cpu);
  cpu.setEflags(newFlags);
  cpu.cpl = 3;
  loadV86(cpu, Seg.CS, cs);
  loadV86(cpu, Seg.SS, ss);
  loadV86(cpu, Seg.ES, es);
  loadV86(cpu, Seg.DS, ds);
  loadV86(cpu, Seg.FS, fs);
  loadV86(cpu, Seg.GS, gs);
  cpu.reg32[Reg.ESP] = esp;
  cpu.eip = eip & 0xffff;
  cpu.updateModeCaches();
}

/** IRET with NT: return to the task named by the back-link of the current TSS. */
function iretTask(cpu: CpuCore): void {
  const link = cpu.readSys16(cpu.segBase[Seg.TR]);
  const err = link & 0xfffc;
  if ((link & 4) !== 0 || (link & 0xfffc) === 0) throw new CpuFault(Vec.TS, err);
  const d = fetchDescriptor(cpu, link, Vec.TS);
  const t = descType(d);
  if (descIsSegment(d) || (t !== SysType.Tss16Busy && t !== SysType.Tss32Busy)) throw new CpuFault(Vec.TS, err);
  if (!descPresent(d)) throw new CpuFault(Vec.NP, err);
  taskSwitch(cpu, link, d, TaskSource.Iret, 0, cpu.eip);
}


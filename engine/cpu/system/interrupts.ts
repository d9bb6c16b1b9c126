// Interrupt and exception delivery (SDM Vol. 3 ch. 6; Vol. 2 "INT n/INTO/INT3/INT1").
//
// Contract with the interpreter:
//  - cpu.eip is the EIP to push: the next instruction for INT n/INT3/INTO/INT1 and
//    traps, the faulting instruction for faults, the interrupted one for INTR/NMI.
//  - kind=Software: a fault found while delivering (IDT limit, DPL, #NP, #SS, #PF on
//    the stack, v86 IOPL check) is thrown as a CpuFault, as the INT instruction's own
//    fault; the state is rolled back first. The interpreter then restores EIP to the
//    INT instruction and delivers that fault as an Exception.
//  - kind=External/Exception: never throws. Nested faults are resolved here with the
//    double-fault rules (SDM table 6-5) and a fault while delivering #DF shuts down.
import type { CpuCore } from '../core';
import {
  CpuFault,
  EventKind,
  NO_ERROR_CODE,
  Seg,
  Vec,
  CR0_PE,
  CR4_VME,
  FLAG_AC,
  FLAG_IF,
  FLAG_IOPL,
  FLAG_NT,
  FLAG_RF,
  FLAG_TF,
  FLAG_VIF,
  FLAG_VM,
  Reg,
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
  gateSelector,
  loadCache,
  loadNull,
  loadReal,
  loadV86,
  markAccessed,
  type Descriptor,
} from './descriptors';
import { StackPtr, restore, snapshot } from './stack';
import { tssStack, ioMapBase } from './tss';
import { TaskFault, TaskSource, taskSwitch } from './task-switch';

/** Which instruction raised a Software event: they differ in DPL and v86 checks. */
export const enum SoftInt {
  /** INT n (CD ib): gate DPL checked; IOPL-sensitive (or VME-redirected) in v86. */
  IntN = 0,
  /** INT3 (CC) and INTO (CE): gate DPL checked; always to the protected-mode handler in v86. */
  Int3OrInto = 1,
  /** INT1 / ICEBP (F1): like a hardware #DB — no DPL check, EXT set. */
  Icebp = 2,
}

/** Exceptions that push an error code. */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}

const isContributory = (v: number): boolean => v === 0 || (v >= 10 && v <= 13);

/**
 * Fault-class exceptions: their pushed EFLAGS image has RF set, so the IRET that
 * restarts the instruction does not re-trigger a code breakpoint (SDM 17.3.1.1).
 * Not for #DB (an instruction-breakpoint fault must not set it), nor the traps and
 * aborts #BP, #OF, #DF, #MC. Hardware interrupts leave RF as it is.
 */
const isFaultClass = (v: number): boolean => v !== 1 && v !== 3 && v !== 4 && v !== 8 && v !== 18;

export function deliverEvent(cpu: CpuCore, vector: number, kind: EventKind, errorCode: number, soft: SoftInt = SoftInt.IntN): void {
  cpu.halted = false;
  if (kind === EventKind.Software) {
    const snap = snapshot(cpu);
    try {
      deliverOnce(cpu, vector, kind, errorCode, soft);
      return;
    } catch (e) {
      if (e instanceof TaskFault) {
        // Past a task switch's commit point: the fault belongs to the new task.
        deliverNested(cpu, e.fault.vector, EventKind.Exception, e.fault.errorCode);
        return;
      }
      if (e instanceof CpuFault) restore(cpu, snap);
      throw e;
    }
  }
  deliverNested(cpu, vector, kind, errorCode);
}

/**
 * Deliver an External/Exception event, resolving faults raised during delivery
 * (including those a task gate's switch raises in the new task) by SDM table 6-5.
 */
export function deliverNested(cpu: CpuCore, vector: number, kind: EventKind, errorCode: number): void {
  let v = vector;
  let k = kind;
  let err = errorCode;
  // Table 6-5 reaches #DF then shutdown within a few rounds; the bound only guards against a bug looping here.
  for (let round = 0; ; round++) {
    if (round === 8) return cpu.shutdown('triple fault');
    const snap = snapshot(cpu);
    let fault: CpuFault;
    try {
      deliverOnce(cpu, v, k, err, SoftInt.IntN);
      if (v === Vec.NMI && k === EventKind.External) cpu.nmiBlocked = true;
      return;
    } catch (e) {
      if (e instanceof TaskFault) fault = e.fault;
      else if (e instanceof CpuFault) {
        restore(cpu, snap);
        fault = e;
      } else throw e;
    }
    // Only an exception being delivered can combine into #DF; an interrupt that faults just yields that fault.
    const r = k === EventKind.Exception ? classify(v, fault.vector) : 'serial';
    if (r === 'shutdown') return cpu.shutdown('triple fault');
    k = EventKind.Exception;
    if (r === 'df') {
      v = Vec.DF;
      err = 0;
    } else {
      v = fault.vector;
      err = fault.errorCode;
    }
  }
}

/** SDM table 6-5: what a second exception during delivery of the first becomes. */
function classify(first: number, second: number): 'df' | 'serial' | 'shutdown' {
  const secondBad = isContributory(second) || second === Vec.PF;
  if (first === Vec.DF) return secondBad ? 'shutdown' : 'serial';
  if (isContributory(first) && isContributory(second)) return 'df';
  if (first === Vec.PF && secondBad) return 'df';
  return 'serial';
}

function deliverOnce(cpu: CpuCore, vector: number, kind: EventKind, errorCode: number, soft: SoftInt): void {
  if ((cpu.cr0 & CR0_PE) === 0) deliverReal(cpu, vector);
  else deliverProtected(cpu, vector, kind, errorCode, soft);
}

/** Real mode: IVT entry vector*4 at IDTR.base; push FLAGS, CS, IP; clear IF, TF, AC (SDM INT pseudo-code). */
function deliverReal(cpu: CpuCore, vector: number): void {
  const entry = vector * 4;
  if (entry + 3 > cpu.idtrLimit) throw new CpuFault(Vec.GP, 0);
  const off = cpu.readSys16(cpu.idtrBase + entry);
  const sel = cpu.readSys16(cpu.idtrBase + entry + 2);
  const flags = cpu.getEflags();
  cpu.push16(flags & 0xffff);
  cpu.push16(cpu.segSel[Seg.CS]);
  cpu.push16(cpu.eip & 0xffff);
  loadReal(cpu, Seg.CS, sel);
  cpu.eip = off;
  cpu.setEflags(flags & ~(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF));
  cpu.updateModeCaches();
}

function deliverProtected(cpu: CpuCore, vector: number, kind: EventKind, errorCode: number, soft: SoftInt): void {
  const eflags = cpu.getEflags();
  const v86 = (eflags & FLAG_VM) !== 0;
  // EXT: the event was not caused by the program (external, exception, ICEBP).
  const ext = kind === EventKind.Software && soft !== SoftInt.Icebp ? 0 : 1;

  if (kind === EventKind.Software && v86 && soft === SoftInt.IntN) {
    if ((cpu.cr4 & CR4_VME) !== 0 && !redirectionBitSet(cpu, vector)) {
      deliverV86Redirected(cpu, vector, eflags);
      return;
    }
    // Without VME (or with the bitmap bit set) INT n is IOPL-sensitive in v86 mode.
    if ((eflags & FLAG_IOPL) !== FLAG_IOPL) throw new CpuFault(Vec.GP, 0);
  }

  const idtErr = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > cpu.idtrLimit) throw new CpuFault(Vec.GP, idtErr);
  const addr = (cpu.idtrBase + vector * 8) | 0;
  const gate: Descriptor = { lo: cpu.readSys32(addr), hi: cpu.readSys32(addr + 4), addr };
  const type = descType(gate);
  if (
    descIsSegment(gate) ||
    (type !== SysType.TaskGate &&
      type !== SysType.IntGate16 &&
      type !== SysType.TrapGate16 &&
      type !== SysType.IntGate32 &&
      type !== SysType.TrapGate32)
  ) {
    throw new CpuFault(Vec.GP, idtErr);
  }
  // Software interrupts may only use gates at or above their privilege (INT1 is exempt).
  if (kind === EventKind.Software && soft !== SoftInt.Icebp && descDpl(gate) < cpu.cpl) throw new CpuFault(Vec.GP, vector * 8 + 2);
  if (!descPresent(gate)) throw new CpuFault(Vec.NP, idtErr);

  const pushError = kind === EventKind.Exception && hasErrorCode(vector);
  const code = errorCode === NO_ERROR_CODE ? 0 : errorCode;

  if (type === SysType.TaskGate) {
    const tsel = gateSelector(gate);
    if ((tsel & 4) !== 0) throw new CpuFault(Vec.GP, (tsel & 0xfffc) | ext);
    const td = fetchDescriptor(cpu, tsel, Vec.GP, ext);
    const tt = descType(td);
    if (descIsSegment(td) || (tt !== SysType.Tss16Avail && tt !== SysType.Tss32Avail)) throw new CpuFault(Vec.GP, (tsel & 0xfffc) | ext);
    if (!descPresent(td)) throw new CpuFault(Vec.NP, (tsel & 0xfffc) | ext);
    taskSwitch(cpu, tsel, td, TaskSource.Interrupt, ext, cpu.eip);
    if (pushError) {
      // On the new task's stack, sized by the new TSS; faults here belong to the new task.
      try {
        const stk = StackPtr.current(cpu);
        const o32 = tt === SysType.Tss32Avail;
        stk.checkPush(o32 ? 4 : 2, ext);
        stk.push(cpu, code, o32);
        stk.commit(cpu);
      } catch (e) {
        if (e instanceof CpuFault) throw new TaskFault(e);
        throw e;
      }
    }
    return;
  }

  const gate32 = (type & 8) !== 0;
  const csSel = gateSelector(gate);
  const offset = gateOffset(gate);
  if ((csSel & 0xfffc) === 0) throw new CpuFault(Vec.GP, ext);
  const cd = fetchDescriptor(cpu, csSel, Vec.GP, ext);
  const dpl = descDpl(cd);
  if (!descIsCode(cd) || dpl > cpu.cpl) throw new CpuFault(Vec.GP, (csSel & 0xfffc) | ext);
  if (!descPresent(cd)) throw new CpuFault(Vec.NP, (csSel & 0xfffc) | ext);

  let pushedFlags = eflags;
  if (kind === EventKind.Exception && isFaultClass(vector)) pushedFlags |= FLAG_RF;
  const size = gate32 ? 4 : 2;
  const oldCs = cpu.segSel[Seg.CS];
  const oldSs = cpu.segSel[Seg.SS];
  const oldEsp = cpu.reg32[Reg.ESP];
  const oldEip = cpu.eip;

  if (!descBit2(cd) && dpl < cpu.cpl) {
    // Inner privilege: new stack from the TSS (SDM 6.12.1).
    if (v86 && dpl !== 0) throw new CpuFault(Vec.GP, (csSel & 0xfffc) | ext);
    const { ss, esp } = tssStack(cpu, dpl, ext);
    const ssErr = (ss & 0xfffc) | ext;
    if ((ss & 0xfffc) === 0) throw new CpuFault(Vec.TS, ext);
    if ((ss & 3) !== dpl) throw new CpuFault(Vec.TS, ssErr);
    const sd = fetchDescriptor(cpu, ss, Vec.TS, ext);
    if (descDpl(sd) !== dpl || !descIsData(sd) || !descBit1(sd)) throw new CpuFault(Vec.TS, ssErr);
    if (!descPresent(sd)) throw new CpuFault(Vec.SS, ssErr);
    const stk = new StackPtr(descBase(sd), descLimit(sd), descAccess(sd), esp);
    const items = 5 + (pushError ? 1 : 0) + (v86 ? 4 : 0);
    stk.checkPush(items * size, ssErr);
    if (offset > descLimit(cd)) throw new CpuFault(Vec.GP, ext);

    cpu.cpl = dpl; // the new stack is written with the handler's privilege
    if (v86) {
      stk.push(cpu, cpu.segSel[Seg.GS], gate32);
      stk.push(cpu, cpu.segSel[Seg.FS], gate32);
      stk.push(cpu, cpu.segSel[Seg.DS], gate32);
      stk.push(cpu, cpu.segSel[Seg.ES], gate32);
    }
    stk.push(cpu, oldSs, gate32);
    stk.push(cpu, oldEsp, gate32);
    stk.push(cpu, pushedFlags, gate32);
    stk.push(cpu, oldCs, gate32);
    stk.push(cpu, oldEip, gate32);
    if (pushError) stk.push(cpu, code, gate32);
    if (v86) {
      // Protected-mode handlers must not inherit real-mode-style segment values.
      loadNull(cpu, Seg.GS, 0);
      loadNull(cpu, Seg.FS, 0);
      loadNull(cpu, Seg.DS, 0);
      loadNull(cpu, Seg.ES, 0);
    }
    markAccessed(cpu, sd);
    loadCache(cpu, Seg.SS, ss, sd);
    cpu.reg32[Reg.ESP] = stk.esp;
  } else if (descBit2(cd) || dpl === cpu.cpl) {
    // Same privilege: v86 code can only enter ring 0 through the stack switch above.
    if (v86) throw new CpuFault(Vec.GP, (csSel & 0xfffc) | ext);
    const stk = StackPtr.current(cpu);
    const items = 3 + (pushError ? 1 : 0);
    stk.checkPush(items * size, ext);
    if (offset > descLimit(cd)) throw new CpuFault(Vec.GP, ext);
    stk.push(cpu, pushedFlags, gate32);
    stk.push(cpu, oldCs, gate32);
    stk.push(cpu, oldEip, gate32);
    if (pushError) stk.push(cpu, code, gate32);
    stk.commit(cpu);
  } else {
    throw new CpuFault(Vec.GP, (csSel & 0xfffc) | ext);
  }

  markAccessed(cpu, cd);
  loadCache(cpu, Seg.CS, (csSel & 0xfffc) | cpu.cpl, cd);
  cpu.eip = offset;
  // Interrupt gates also mask INTR; trap gates leave IF alone.
  let clear = FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM;
  if (type === SysType.IntGate16 || type === SysType.IntGate32) clear |= FLAG_IF;
  cpu.setEflags(eflags & ~clear);
  cpu.updateModeCaches();
}

/**
 * CR4.VME: the 32-byte interrupt redirection bitmap sits just below the I/O bitmap.
 * A set bit sends INT n to the protected-mode IDT; a clear bit redirects it to the
 * v86 task's own IVT. A bitmap outside the TSS limit raises #GP(0) (SDM 20.3.3).
 */
function redirectionBitSet(cpu: CpuCore, vector: number): boolean {
  const base = ioMapBase(cpu);
  if (base < 0) throw new CpuFault(Vec.GP, 0);
  const off = base - 32 + (vector >>> 3);
  if (off < 0 || off > cpu.segLimit[Seg.TR]) throw new CpuFault(Vec.GP, 0);
  return ((cpu.readSys8(cpu.segBase[Seg.TR] + off) >>> (vector & 7)) & 1) !== 0;
}

/** VME redirection: an 8086-style interrupt through the v86 task's IVT at linear 0 (SDM 20.3.3.5). */
function deliverV86Redirected(cpu: CpuCore, vector: number, eflags: number): void {
  const off = cpu.readLin16(vector * 4);
  const sel = cpu.readLin16(vector * 4 + 2);
  const iopl3 = (eflags & FLAG_IOPL) === FLAG_IOPL;
  let image = eflags & 0xffff;
  // With IOPL < 3 the handler sees VIF as IF and IOPL as 3 — the virtualised view.
  if (!iopl3) image = (image & ~FLAG_IF) | ((eflags & FLAG_VIF) !== 0 ? FLAG_IF : 0) | FLAG_IOPL;
  cpu.push16(image);
  cpu.push16(cpu.segSel[Seg.CS]);
  cpu.push16(cpu.eip & 0xffff);
  loadV86(cpu, Seg.CS, sel);
  cpu.eip = off;
  cpu.setEflags(eflags & ~(FLAG_TF | FLAG_RF | (iopl3 ? FLAG_IF : FLAG_VIF)));
  cpu.updateModeCaches();
}

// The protected-mode system layer of the i686 core, written against CpuCore
// (engine/cpu/core.ts). Every function raises processor exceptions by throwing
// CpuFault (state.ts); see each module's header for details.
//
// Contract with the interpreter, in one place:
//  - Far transfers (farJump/farCall/farReturn/interruptReturn): cpu.eip is the next
//    instruction on entry (a task switch saves it; farCall saves returnEip). On a
//    fault they restore what they changed and throw. A fault in the *new* task after
//    a task switch committed is delivered inside the call, which then returns
//    normally. They update CS/EIP/CPL (and SS/ESP/EFLAGS) and call updateModeCaches().
//  - deliverEvent: cpu.eip is the EIP to push. kind=Software may throw (the INT
//    instruction's own fault, state rolled back); External/Exception never throw —
//    nested faults become #DF, and a fault while delivering #DF calls
//    cpu.shutdown('triple fault'). Pass SoftInt to tell INT n / INT3,INTO / ICEBP apart.
//    NMI (vector 2, External) sets nmiBlocked; any IRET clears it.
//  - Fault-class exceptions push EFLAGS with RF set (SDM 17.3.1.1).
//  - Debug traps (data/I-O breakpoints, TSS T bit) are recorded in
//    cpu.pendingDebugTrap (DR6 bits); the interpreter raises #DB after the instruction.
//  - The TSC is 1 GHz of machine-clock time (TSC_HZ) plus cpu.tscOffset.
//  - cpuid/rdmsr/wrmsr/rdtsc/sysexit read and write the registers themselves.
export { translate, PF_P, PF_W, PF_U, PF_RSVD } from './paging';
export { loadSegment, lldt, ltr, lar, lsl, verr, verw } from './segments';
export { farJump, farCall, farReturn, interruptReturn } from './far-transfers';
export { deliverEvent, hasErrorCode, SoftInt } from './interrupts';
export { writeCr, readCr, writeDr, readDr } from './control-registers';
export { checkIo } from './io-permission';
export { cpuid, cpuidFeatures } from './cpuid';
export { rdmsr, wrmsr, rdtsc, readTsc, TSC_HZ } from './msr';
export { sysenter, sysexit } from './sysenter';
export { checkCodeBreakpoint, checkDataBreakpoint, checkIoBreakpoint, breakpointsArmed } from './debug';

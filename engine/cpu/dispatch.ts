// The opcode tables: one handler per one-byte opcode (0x00-0xFF) and per 0F xx
// opcode (0x100-0x1FF). Prefix bytes never reach the table (cpu.ts consumes them).
// Anything not installed is #UD: that covers MMX/SSE, which CPUID does not report.
import type { Cpu } from './cpu';
import { CpuFault, Vec } from './state';
import { installAlu } from './ops-alu';
import { installMulDiv } from './ops-muldiv';
import { installShifts } from './ops-shift';
import { installBits } from './ops-bits';
import { installControl } from './ops-control';
import { installData } from './ops-data';
import { installStrings } from './ops-string';
import { installSystem } from './ops-system';

export type Handler = (cpu: Cpu) => void;
export type OpTable = Handler[];

function undefinedOpcode(): void {
  throw new CpuFault(Vec.UD);
}

export const OPCODES: OpTable = new Array<Handler>(512).fill(undefinedOpcode);
/**
 * LOCK legality per opcode: a bitmask of the ModR/M reg values for which LOCK is
 * allowed (with a memory destination); 0 = LOCK is #UD.
 */
export const LOCKABLE = new Uint8Array(512);

installAlu(OPCODES, LOCKABLE);
installMulDiv(OPCODES, LOCKABLE);
installShifts(OPCODES);
installBits(OPCODES, LOCKABLE);
installControl(OPCODES, LOCKABLE);
installData(OPCODES);
installStrings(OPCODES);
installSystem(OPCODES);

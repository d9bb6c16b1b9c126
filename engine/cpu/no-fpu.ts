// The x87 unit of a machine built without a coprocessor. ESC opcodes and FXSAVE
// raise #NM (device not available) so a guest's emulation handler can take over,
// as on a 386 without a 387 whose OS sets CR0.EM; WAIT has nothing to wait for.
import type { CpuCore, FpuUnit } from './core';
import type { ComponentState } from '../common/snapshot';
import { CpuFault, Vec } from './state';

export class AbsentFpu implements FpuUnit {
  readonly stateVersion = 1;
  reset(): void {}
  execute(): void {
    throw new CpuFault(Vec.NM);
  }
  checkPending(_cpu: CpuCore): void {}
  fxsave(): void {
    throw new CpuFault(Vec.NM);
  }
  fxrstor(): void {
    throw new CpuFault(Vec.NM);
  }
  saveState(): ComponentState {
    return {};
  }
  loadState(): void {}
}

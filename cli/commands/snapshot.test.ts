import { describe, expect, it } from 'vitest';
import { formatTree } from './snapshot';
import type { Snapshot } from '../../protocol/snapshots';

const snap = (id: string, name: string, parentId: string | null, online = false): Snapshot => ({ id, name, description: '', createdAt: '2026-12-02T10:00:00.000Z', parentId, online, disks: {} });
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

describe('boxwood snapshot list', () => {
  it('prints the tree indented and marks the current state under its parent', () => {
    const lines = formatTree({ snapshots: [snap(A, 'base', null), snap(B, 'left', A, true), snap(C, 'right', A)], currentParentId: B, resumesSavedState: false });
    expect(lines).toEqual([
      `base  (2026-12-02 10:00:00)  ${A}`,
      `  left  (2026-12-02 10:00:00, with machine state)  ${B}`,
      '    * Current State',
      `  right  (2026-12-02 10:00:00)  ${C}`,
    ]);
  });
  it('without snapshots the current state is at the root', () => {
    expect(formatTree({ snapshots: [], currentParentId: null, resumesSavedState: true })).toEqual(['* Current State (resumes the saved machine at next start)']);
  });
});

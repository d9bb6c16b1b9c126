// Boxwood's x87 against the host's real x87, bit for bit (see test/fpu/).
// Needs gcc on an x86-64 host; skipped with a message otherwise.
import { describe, it, expect, afterAll } from 'vitest';
import { haveGcc, cleanupHost } from '../../fpu/harness';
import { GROUPS } from '../../fpu/cases';
import { compareGroup } from '../../fpu/compare';

const gcc = haveGcc();
if (!gcc) console.warn('x87-vs-host: gcc or an x86-64 host is missing; the reference comparison is SKIPPED');

describe.skipIf(!gcc)('x87 vs host FPU', () => {
  afterAll(cleanupHost);
  for (const [name, gen] of GROUPS) {
    it(name, () => {
      const r = compareGroup(name, gen());
      const shown = r.mismatches.slice(0, 20).map((m) => `${m.c.name}: ${m.d}`);
      expect(shown, `${r.mismatches.length}/${r.total} mismatches`).toEqual([]);
    });
  }
});

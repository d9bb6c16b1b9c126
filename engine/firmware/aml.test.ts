// Byte-exact checks of the AML terms dsdt.ts uses (ACPI 6.4 section 20.2 encodings).
import { describe, expect, it } from 'vitest';
import * as aml from './aml';

const s = (t: string) => [...t].map((c) => c.charCodeAt(0));

describe('AML statements and expressions', () => {
  it('encodes If / Else, Store, And, Or, LLess with their operands', () => {
    // If (LLess (Arg0, 0x80)) { Store (Arg0, Local0) } Else { Return (One) }
    expect(aml.if_(aml.lLess(aml.arg(0), aml.integer(0x80)), aml.store(aml.arg(0), aml.local(0)))).toEqual([
      0xa0, 0x08, 0x95, 0x68, 0x0a, 0x80, 0x70, 0x68, 0x60,
    ]);
    expect(aml.else_(aml.ret(aml.ONE))).toEqual([0xa1, 0x03, 0xa4, 0x01]);
    // Or (FOO, 0x80, FOO): the target is a name; And without a target ends in NullName.
    expect(aml.or(aml.ref('FOO'), aml.integer(0x80), aml.ref('FOO'))).toEqual([0x7d, ...s('FOO_'), 0x0a, 0x80, ...s('FOO_')]);
    expect(aml.and(aml.integer(0x80), aml.arg(0))).toEqual([0x7b, 0x0a, 0x80, 0x68, 0x00]);
    expect(aml.lEqual(aml.ZERO, aml.ONE)).toEqual([0x93, 0x00, 0x01]);
  });

  it('encodes methods with argument count and serialization, and method calls', () => {
    expect(aml.method('_SRS', 1, false, aml.ret(aml.arg(0)))).toEqual([0x14, 0x08, ...s('_SRS'), 0x01, 0xa4, 0x68]);
    expect(aml.method('IQCR', 1, true)[6]).toBe(0x09);
    expect(aml.call('\\_SB.IQST', aml.arg(0))).toEqual([0x5c, 0x2e, ...s('_SB_IQST'), 0x68]);
  });

  it('encodes buffers, CreateDWordField, OperationRegion and Field', () => {
    expect(aml.buffer([1, 2, 3])).toEqual([0x11, 0x06, 0x0a, 0x03, 1, 2, 3]);
    expect(aml.createDWordField(aml.arg(0), 5, 'PRRI')).toEqual([0x8a, 0x68, 0x0a, 0x05, ...s('PRRI')]);
    expect(aml.operationRegion('PIRQ', aml.RegionSpace.PciConfig, 0x60, 4)).toEqual([0x5b, 0x80, ...s('PIRQ'), 0x02, 0x0a, 0x60, 0x0a, 0x04]);
    // Field lengths are bit counts in PkgLength layout, without counting their own bytes.
    expect(aml.field('PIRQ', aml.FieldAccess.Byte, [['PRQ0', 8], ['', 0x40], ['PRQ1', 8]])).toEqual([
      0x5b, 0x81, 0x13, ...s('PIRQ'), 0x01, ...s('PRQ0'), 0x08, 0x00, 0x40, 0x04, ...s('PRQ1'), 0x08,
    ]);
  });
});

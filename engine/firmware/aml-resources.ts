// ACPI resource descriptors (ACPI 6.x section 6.4) for ResourceTemplate buffers: the
// subset a PCI host bridge _CRS and PCI interrupt link devices need. Each function returns
// the descriptor's bytes; resourceTemplate() appends the End Tag and wraps them in a Buffer.
import { buffer, type Aml } from './aml';

const le16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** ResourceTemplate () { ... }: the descriptors, then End Tag (0x79) with checksum 0 ("none"). */
export function resourceTemplate(...descriptors: Aml[]): Aml {
  return buffer([...descriptors.flat(), 0x79, 0x00]);
}

// Address space descriptors: general flags of a bridge window = ResourceProducer,
// PosDecode, MinFixed (bit 2), MaxFixed (bit 3).
const PRODUCER_FIXED = 0x0c;

/** Word Address Space descriptor (0x88), 13 bytes of body. */
function wordAddress(type: number, typeFlags: number, min: number, max: number): Aml {
  const len = max - min + 1;
  return [0x88, ...le16(13), type, PRODUCER_FIXED, typeFlags, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(len)];
}

/** WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, len). */
export const wordBusNumber = (min: number, max: number): Aml => wordAddress(2, 0, min, max);

/** WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, len). */
export const wordIO = (min: number, max: number): Aml => wordAddress(1, 0x03, min, max);

/** IO (Decode16, min, max, alignment, length): the small I/O port descriptor (0x47). */
export const io = (min: number, max: number, alignment: number, length: number): Aml => [
  0x47,
  0x01,
  ...le16(min),
  ...le16(max),
  alignment & 0xff,
  length & 0xff,
];

export type MemoryCaching = 'noncacheable' | 'cacheable' | 'write-combining' | 'prefetchable';
const CACHING: Record<MemoryCaching, number> = { noncacheable: 0, cacheable: 1, 'write-combining': 2, prefetchable: 3 };

/** DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, caching, ReadWrite, 0, min, max, 0, len). */
export function dwordMemory(min: number, max: number, caching: MemoryCaching = 'noncacheable'): Aml {
  const len = (max - min + 1) >>> 0;
  const typeFlags = 0x01 | (CACHING[caching] << 1); // bit 0: ReadWrite
  return [0x87, ...le16(23), 0, PRODUCER_FIXED, typeFlags, ...le32(0), ...le32(min), ...le32(max), ...le32(0), ...le32(len)];
}

export interface InterruptOptions {
  level: boolean;
  activeLow: boolean;
  shared: boolean;
}

/** Interrupt (ResourceConsumer, Level|Edge, ActiveHigh|ActiveLow, Shared|Exclusive) {irqs}: 0x89. */
export function interrupt(o: InterruptOptions, irqs: number[]): Aml {
  // Flags: bit 0 consumer, bit 1 edge (0 = level), bit 2 active low, bit 3 shared.
  const flags = 0x01 | (o.level ? 0 : 0x02) | (o.activeLow ? 0x04 : 0) | (o.shared ? 0x08 : 0);
  return [0x89, ...le16(2 + 4 * irqs.length), flags, irqs.length, ...irqs.flatMap(le32)];
}

/** Byte offset of the first interrupt number inside an interrupt() descriptor (for CreateDWordField). */
export const INTERRUPT_NUMBER_OFFSET = 5;

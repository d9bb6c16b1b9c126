// Recognise an image file's format from its first bytes (magic numbers), never from
// its name: qcow2 "QFI\xfb", VDI signature at 0x40, VMDK "KDMV" or a text descriptor,
// ISO 9660 "CD001" at 0x8001; anything else is raw.
import { QCOW2_MAGIC } from './qcow2-header';
import { VDI_SIGNATURE } from './vdi';
import { VMDK_MAGIC } from './vmdk';
import { IsoImage } from './raw-image';

export type ImageFormat = 'qcow2' | 'vdi' | 'vmdk' | 'iso' | 'raw';

/** Bytes of the file's start that probeImageFormat wants (less is fine for small files). */
export const PROBE_BYTES = 0x8800;

export function probeImageFormat(head: Uint8Array): ImageFormat {
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length >= 4 && dv.getUint32(0) === QCOW2_MAGIC) return 'qcow2';
  if (head.length >= 4 && dv.getUint32(0, true) === VMDK_MAGIC) return 'vmdk';
  if (head.length >= 0x48 && dv.getUint32(0x40, true) === VDI_SIGNATURE) return 'vdi';
  if (head.length >= 20 && /^#\s*Disk DescriptorFile/.test(new TextDecoder().decode(head.subarray(0, 64)))) return 'vmdk';
  if (IsoImage.isIso9660(head)) return 'iso';
  return 'raw';
}

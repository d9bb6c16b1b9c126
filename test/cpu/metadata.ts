// SingleStepTests metadata.json: opcode status and undefined-flag masks.
import { readFileSync } from 'node:fs';

interface OpcodeInfo {
  status: string;
  'flags-mask'?: number;
}
type Entry = OpcodeInfo | { reg: Record<string, OpcodeInfo> };

export class Metadata {
  private readonly opcodes: Record<string, Entry>;

  constructor(path: string) {
    this.opcodes = (JSON.parse(readFileSync(path, 'utf8')) as { opcodes: Record<string, Entry> }).opcodes;
  }

  /**
   * Info for a test file name such as "80.4.MOO.gz" or "F6.json.gz". Files of group
   * opcodes without the ".N" part (8F, C6, C7 in the 8086 set) mix ModR/M reg values:
   * pass the test's reg field to pick its entry.
   */
  forFile(file: string, reg?: number): OpcodeInfo | undefined {
    const [op, second] = file.split('.');
    const entry = this.opcodes[op];
    if (!entry) return undefined;
    if ('reg' in entry) {
      if (/^[0-7]$/.test(second)) return entry.reg[second];
      return reg === undefined ? undefined : entry.reg[String(reg)];
    }
    return entry;
  }

  /** True when the file's opcode is a ModR/M group whose reg values live in one file. */
  mixesGroup(file: string): boolean {
    const [op, second] = file.split('.');
    const entry = this.opcodes[op];
    return entry !== undefined && 'reg' in entry && !/^[0-7]$/.test(second);
  }

  flagsMask(file: string): number {
    return this.forFile(file)?.['flags-mask'] ?? 0xffff;
  }
}

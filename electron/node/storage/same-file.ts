// Whether two paths name the same file: through symlinks and relative parts, and by
// their resolved spelling when one of them does not exist (yet).
import fs from 'node:fs';
import path from 'node:path';

export function sameFile(a: string, b: string): boolean {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

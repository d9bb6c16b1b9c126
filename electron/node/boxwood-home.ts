// Where Boxwood keeps its data: BOXWOOD_HOME, else the platform's user data dir.
import os from 'node:os';
import path from 'node:path';

export function boxwoodHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BOXWOOD_HOME) return path.resolve(env.BOXWOOD_HOME);
  const home = os.homedir();
  switch (process.platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'Boxwood');
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Boxwood');
    default:
      return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'boxwood');
  }
}

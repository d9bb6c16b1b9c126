// Keyboard (and pointer) capture for the guest screen, VirtualBox-style: a click
// captures, the host key (Right Ctrl) releases. While captured every key goes to
// the guest as a KeyboardEvent.code press/release and the browser's default action
// is suppressed.
import { useCallback, useEffect, useState, type RefObject } from 'react';

export const HOST_KEY = 'ControlRight';

export function useKeyboardCapture(target: RefObject<HTMLElement | null>, send: (m: Record<string, unknown>) => void) {
  const [captured, setCaptured] = useState(false);

  const capture = useCallback(() => {
    setCaptured(true);
    target.current?.focus();
    // Pointer lock may be refused (e.g. headless); keyboard capture still works.
    const p = target.current?.querySelector('canvas')?.requestPointerLock?.() as unknown;
    if (p instanceof Promise) p.catch(() => {});
  }, [target]);

  useEffect(() => {
    if (!captured) return;
    const down = new Set<string>();
    const onKey = (e: KeyboardEvent) => {
      if (e.code === HOST_KEY) {
        if (e.type === 'keydown') {
          // Release every key the guest believes is held, then give the keyboard back.
          for (const code of down) send({ type: 'key', code, down: false });
          setCaptured(false);
          document.exitPointerLock?.();
        }
        e.preventDefault();
        return;
      }
      if (!e.code) return;
      e.preventDefault();
      e.stopPropagation();
      const isDown = e.type === 'keydown';
      if (isDown) down.add(e.code);
      else down.delete(e.code);
      send({ type: 'key', code: e.code, down: isDown });
    };
    window.addEventListener('keydown', onKey, true);
    window.addEventListener('keyup', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      window.removeEventListener('keyup', onKey, true);
    };
  }, [captured, send]);

  return { captured, capture };
}

// @vitest-environment happy-dom
import { describe, it, expect, afterEach } from 'vitest';
import { render, cleanup } from '@testing-library/react';
import { OsIcon } from './OsIcon';
import { OS_TYPES } from '../../protocol/vm-config';

afterEach(cleanup);

const drawing = (osType: string | undefined) => {
  const { container } = render(<OsIcon osType={osType} />);
  const svg = container.querySelector('svg.os-icon')!;
  return { os: svg.getAttribute('data-os'), hidden: svg.getAttribute('aria-hidden'), shapes: svg.innerHTML };
};

describe('OsIcon', () => {
  it('draws each OS type its own icon, hidden from screen readers (the OS is named in text beside it)', () => {
    const seen = new Map<string, string>();
    for (const os of OS_TYPES) {
      const d = drawing(os);
      expect(d.os).toBe(os);
      expect(d.hidden).toBe('true');
      expect(d.shapes.length).toBeGreaterThan(100);
      expect([...seen.entries()].find(([, s]) => s === d.shapes)?.[0], `${os} looks like another type`).toBeUndefined();
      seen.set(os, d.shapes);
    }
  });

  it('an unknown or missing type (an inaccessible VM, a newer vm.json) gets the generic machine', () => {
    const other = drawing('other').shapes;
    expect(drawing('beos')).toMatchObject({ os: 'other', shapes: other });
    expect(drawing(undefined)).toMatchObject({ os: 'other', shapes: other });
  });
});

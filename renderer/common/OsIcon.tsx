// Icons for the OS types of protocol/vm-config.ts, drawn here (32×32 SVG, no image
// files to load, no vendor logos): what the VM list and the wizard show beside a machine.
import type { ReactElement } from 'react';
import { OS_TYPES, type OsType } from '../../protocol/vm-config';

const penguin = (
  <>
    <ellipse cx="16" cy="18" rx="9" ry="11" fill="#1d1d1f" />
    <ellipse cx="16" cy="21" rx="6" ry="7.5" fill="#f7f7f2" />
    <circle cx="13" cy="11" r="2" fill="#fff" />
    <circle cx="19" cy="11" r="2" fill="#fff" />
    <circle cx="13.4" cy="11.3" r="0.9" fill="#111" />
    <circle cx="18.6" cy="11.3" r="0.9" fill="#111" />
    <path d="M13.5 14 L18.5 14 L16 16.5 Z" fill="#f2a900" />
    <ellipse cx="11" cy="29" rx="4" ry="1.8" fill="#f2a900" />
    <ellipse cx="21" cy="29" rx="4" ry="1.8" fill="#f2a900" />
  </>
);

const windowGlyph = (titleBar: string, pane: string) => (
  <>
    <rect x="3" y="5" width="26" height="22" rx="2" fill="#f4f6f8" stroke={titleBar} strokeWidth="1.5" />
    <rect x="3" y="5" width="26" height="6" rx="2" fill={titleBar} />
    <rect x="23" y="6.5" width="4" height="3" fill="#e5533d" />
    <rect x="6" y="14" width="9" height="5" fill={pane} />
    <rect x="17" y="14" width="9" height="5" fill={pane} opacity="0.7" />
    <rect x="6" y="21" width="9" height="4" fill={pane} opacity="0.7" />
    <rect x="17" y="21" width="9" height="4" fill={pane} opacity="0.5" />
  </>
);

const ICONS: Record<OsType, ReactElement> = {
  linux: penguin,
  'linux-other': (
    <>
      {penguin}
      <circle cx="26" cy="7" r="5" fill="#5c6b73" />
      <text x="26" y="10" fontSize="8" textAnchor="middle" fill="#fff" fontFamily="sans-serif" fontWeight="bold">
        ?
      </text>
    </>
  ),
  dos: (
    <>
      <rect x="2" y="4" width="28" height="22" rx="2" fill="#101010" stroke="#7f8c8d" strokeWidth="1.5" />
      <text x="5" y="18" fontSize="8" fill="#c8c8c8" fontFamily="monospace">
        C:\&gt;
      </text>
      <rect x="24" y="16" width="3" height="2" fill="#c8c8c8" />
      <rect x="12" y="27" width="8" height="3" fill="#7f8c8d" />
    </>
  ),
  'windows-9x': windowGlyph('#1c2f8c', '#3a7d7c'),
  'windows-xp': windowGlyph('#2a5fd6', '#5aa83a'),
  bsd: (
    <>
      <path d="M8 13 C5 9 5 5 7 3 C8 7 10 9 12 10 Z" fill="#a5281b" />
      <path d="M24 13 C27 9 27 5 25 3 C24 7 22 9 20 10 Z" fill="#a5281b" />
      <circle cx="16" cy="18" r="11" fill="#c0392b" />
      <ellipse cx="12" cy="16" rx="2.5" ry="3" fill="#fff" />
      <ellipse cx="20" cy="16" rx="2.5" ry="3" fill="#fff" />
      <circle cx="12.5" cy="16.5" r="1.2" fill="#111" />
      <circle cx="19.5" cy="16.5" r="1.2" fill="#111" />
      <path d="M11 23 Q16 27 21 23" stroke="#fff" strokeWidth="1.5" fill="none" />
    </>
  ),
  memtest: (
    <>
      <rect x="2" y="9" width="28" height="13" rx="1" fill="#1e8449" />
      <rect x="5" y="11" width="5" height="6" fill="#1b1b1b" />
      <rect x="11.5" y="11" width="5" height="6" fill="#1b1b1b" />
      <rect x="18" y="11" width="5" height="6" fill="#1b1b1b" />
      <rect x="24.5" y="11" width="3.5" height="6" fill="#1b1b1b" />
      <path d="M4 22 h24 v3 h-24 Z" fill="#d4ac0d" />
      <rect x="15" y="22" width="2" height="3" fill="#1e8449" />
    </>
  ),
  other: (
    <>
      <rect x="3" y="4" width="26" height="19" rx="2" fill="#dfe6e9" stroke="#5c6b73" strokeWidth="1.5" />
      <text x="16" y="18.5" fontSize="12" textAnchor="middle" fill="#5c6b73" fontFamily="sans-serif" fontWeight="bold">
        ?
      </text>
      <rect x="12" y="23" width="8" height="3" fill="#5c6b73" />
      <rect x="8" y="26" width="16" height="2" rx="1" fill="#5c6b73" />
    </>
  ),
};

/** The icon of an OS type; an unknown or missing type (an inaccessible VM) gets "other". */
export function OsIcon({ osType }: { osType: string | undefined }) {
  const known = (OS_TYPES as readonly string[]).includes(osType ?? '') ? (osType as OsType) : 'other';
  return (
    <svg className="os-icon" data-os={known} viewBox="0 0 32 32" width="32" height="32" aria-hidden="true" focusable="false">
      {ICONS[known]}
    </svg>
  );
}

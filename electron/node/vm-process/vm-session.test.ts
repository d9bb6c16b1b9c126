// How the host reads a VM process's end: exit code 0 is a machine that stopped (the
// process exits 0 only after Power Off or the guest's ACPI S5), whether or not its last
// 'state' message came first; anything else is Aborted with the reason.
import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { VmSession } from './vm-session';
import type { VmProcessChannel } from './channel';
import { testVmConfig } from './test-vm-config';

const config = testVmConfig('Ends');

/** A session on a stand-in channel; `end` plays the process's end. */
function session() {
  let exit: (code: number | null, signal: string | null) => void = () => {};
  let message: (raw: unknown) => void = () => {};
  const channel: VmProcessChannel = {
    pid: 1234,
    send: () => {},
    onMessage: (l) => (message = l),
    onExit: (l) => (exit = l),
    onStderr: () => {},
    kill: () => {},
  };
  const s = new VmSession(config, os.tmpdir(), () => {});
  s.start(() => channel);
  return { s, message: (m: unknown) => message(m), end: (code: number | null, signal: string | null) => exit(code, signal) };
}

describe('VmSession end of the VM process', () => {
  it('exit code 0 is Powered Off, even when the final state message was lost', () => {
    const { s, message, end } = session();
    message({ type: 'state', state: 'running' });
    end(0, null);
    expect(s.state).toBe('stopped');
    expect(s.problem).toBeUndefined();
  });

  it('a non-zero exit or an unasked kill is Aborted with the reason', () => {
    const a = session();
    a.message({ type: 'state', state: 'running' });
    a.end(1, null);
    expect(a.s.state).toBe('aborted');
    expect(a.s.problem).toBe('The VM process exited with code 1.');
    const b = session();
    b.end(null, 'SIGKILL');
    expect(b.s.state).toBe('aborted');
    expect(b.s.problem).toBe('The VM process was killed (SIGKILL).');
  });

  it('a kill after Power Off was asked for is Powered Off', () => {
    const { s, end } = session();
    s.send({ type: 'power-off' });
    end(null, 'SIGKILL');
    expect(s.state).toBe('stopped');
  });
});

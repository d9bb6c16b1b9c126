// COM1 in xterm.js: guest output is written as bytes; what the user types goes to
// the guest's serial port. xterm answers the terminal queries busybox sends
// (e.g. ESC[6n cursor position) through the same input path, as a real terminal would.
import { useEffect, useRef, type MutableRefObject } from 'react';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

export function SerialConsole(props: { visible: boolean; sink: MutableRefObject<(data: Uint8Array) => void>; onInput: (text: string) => void }) {
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | null>(null);
  const input = useRef(props.onInput);
  input.current = props.onInput;

  useEffect(() => {
    const t = new Terminal({ convertEol: false, cursorBlink: true, fontFamily: 'monospace', fontSize: 14, scrollback: 5000, rows: 30, cols: 100 });
    t.open(host.current!);
    t.onData((d) => input.current(d));
    term.current = t;
    props.sink.current = (data) => t.write(data);
    return () => {
      props.sink.current = () => {};
      t.dispose();
    };
  }, [props.sink]);

  useEffect(() => {
    if (props.visible) term.current?.focus();
  }, [props.visible]);

  return <div className="serial-console" ref={host} data-testid="serial-console" aria-label="Serial console (COM1)" />;
}

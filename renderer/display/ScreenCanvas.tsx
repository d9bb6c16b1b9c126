// The guest framebuffer on a canvas. Frames arrive as dirty rectangles of RGBA
// pixels and are painted with putImageData; scaling is CSS so the canvas keeps
// the guest's native resolution (crisp 1:1 and integer modes).
import { useEffect, useRef, useState, type MutableRefObject } from 'react';

export type ScaleMode = '1:1' | 'fit' | 'integer';
type FrameMsg = { x: number; y: number; width: number; height: number; rgba: Uint8Array } | { mode: { width: number; height: number } };

export function ScreenCanvas(props: {
  scale: ScaleMode;
  sink: MutableRefObject<(m: FrameMsg) => void>;
  onMouse: (m: { type: 'mouse'; dx: number; dy: number; dz: number; buttons: number }) => void;
  pointerLocked: boolean;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ width: 720, height: 400 });
  const [box, setBox] = useState({ width: 0, height: 0 });
  const frames = useRef(0);

  useEffect(() => {
    props.sink.current = (m) => {
      const c = canvas.current;
      if (!c) return;
      if ('mode' in m) {
        if (c.width !== m.mode.width || c.height !== m.mode.height) {
          c.width = m.mode.width;
          c.height = m.mode.height;
          setSize({ ...m.mode });
        }
        return;
      }
      const ctx = c.getContext('2d');
      if (!ctx) return;
      if (m.x + m.width > c.width || m.y + m.height > c.height) return; // stale rectangle from the previous mode
      ctx.putImageData(new ImageData(new Uint8ClampedArray(m.rgba.buffer as ArrayBuffer, m.rgba.byteOffset, m.rgba.byteLength), m.width, m.height), m.x, m.y);
      frames.current++;
    };
  }, [props.sink]);

  // Track the available area for fit/integer scaling.
  useEffect(() => {
    const parent = canvas.current?.parentElement;
    if (!parent) return;
    const ro = new ResizeObserver(() => setBox({ width: parent.clientWidth, height: parent.clientHeight }));
    ro.observe(parent);
    return () => ro.disconnect();
  }, []);

  let factor = 1;
  if (props.scale !== '1:1' && box.width && box.height) {
    factor = Math.min(box.width / size.width, box.height / size.height);
    if (props.scale === 'integer') factor = Math.max(1, Math.floor(factor));
  }

  const buttons = (e: React.MouseEvent) => (e.buttons & 1) | ((e.buttons & 2) ? 2 : 0) | ((e.buttons & 4) ? 4 : 0);
  return (
    <canvas
      ref={canvas}
      width={size.width}
      height={size.height}
      className="screen-canvas"
      style={{ width: size.width * factor, height: size.height * factor, imageRendering: props.scale === 'fit' ? 'auto' : 'pixelated' }}
      onMouseMove={(e) => props.pointerLocked && props.onMouse({ type: 'mouse', dx: Math.max(-4096, Math.min(4096, e.movementX)), dy: Math.max(-4096, Math.min(4096, e.movementY)), dz: 0, buttons: buttons(e) })}
      onMouseDown={(e) => props.pointerLocked && props.onMouse({ type: 'mouse', dx: 0, dy: 0, dz: 0, buttons: buttons(e) })}
      onMouseUp={(e) => props.pointerLocked && props.onMouse({ type: 'mouse', dx: 0, dy: 0, dz: 0, buttons: buttons(e) })}
      onWheel={(e) => props.pointerLocked && props.onMouse({ type: 'mouse', dx: 0, dy: 0, dz: Math.sign(e.deltaY), buttons: 0 })}
      onContextMenu={(e) => e.preventDefault()}
    />
  );
}

// A tiny typed event emitter. The engine talks to its host only through named
// events (v86-style), so it never imports Node, Electron or DOM APIs.
export type Listener<T> = (payload: T) => void;

export class Emitter<Events extends { [name: string]: unknown }> {
  private listeners: { [K in keyof Events]?: Listener<Events[K]>[] } = {};

  on<K extends keyof Events>(name: K, fn: Listener<Events[K]>): () => void {
    (this.listeners[name] ??= []).push(fn);
    return () => this.off(name, fn);
  }

  off<K extends keyof Events>(name: K, fn: Listener<Events[K]>): void {
    const list = this.listeners[name];
    if (!list) return;
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const list = this.listeners[name];
    if (!list) return;
    for (let i = 0; i < list.length; i++) list[i](payload);
  }

  hasListeners<K extends keyof Events>(name: K): boolean {
    return (this.listeners[name]?.length ?? 0) > 0;
  }
}

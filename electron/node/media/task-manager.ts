// Long media operations (copy, convert, compact) as tasks: the request returns a task
// id at once, the work runs in the background, progress is pushed to every UI as
// `task.progress` events (at most ~10 per second per task, plus the final one), and
// `task.cancel` aborts it through the operation's AbortSignal. The disk operations
// guarantee that a cancelled or failed operation leaves its source intact and no
// partial destination behind.
import { randomUUID } from 'node:crypto';
import type { TaskProgress } from '../../../protocol/media';
import { CancelledError } from '../storage/disk-operations';

export type TaskWork = (ctx: { signal: AbortSignal; progress: (done: number, total: number) => void }) => Promise<void>;

interface Task {
  state: TaskProgress;
  controller: AbortController;
  finished: Promise<void>;
}

const EMIT_INTERVAL_MS = 100;
/** Finished tasks stay listed (task.list) this long, so a UI opened late sees the outcome. */
const KEEP_FINISHED_MS = 60_000;

export class TaskManager {
  private readonly tasks = new Map<string, Task>();

  constructor(private readonly emit: (p: TaskProgress) => void) {}

  /** Start `work` in the background; `onDone` runs after success (e.g. to register the result). */
  start(label: string, work: TaskWork, onDone?: () => void): string {
    const taskId = randomUUID();
    const controller = new AbortController();
    const state: TaskProgress = { taskId, label, fraction: 0 };
    let lastEmit = 0;
    const progress = (done: number, total: number) => {
      state.fraction = total > 0 ? Math.min(1, done / total) : 0;
      const now = Date.now();
      if (now - lastEmit >= EMIT_INTERVAL_MS) {
        lastEmit = now;
        this.emit({ ...state });
      }
    };
    const finished = (async () => {
      // Let the caller receive the task id before any event about it.
      await new Promise((r) => setImmediate(r));
      this.emit({ ...state });
      try {
        if (controller.signal.aborted) throw new CancelledError();
        await work({ signal: controller.signal, progress });
        state.fraction = 1;
        state.done = true;
        try {
          onDone?.();
        } catch (e) {
          state.error = `The operation finished, but: ${(e as Error).message}`;
        }
      } catch (e) {
        state.done = true;
        if (e instanceof CancelledError || controller.signal.aborted) {
          state.cancelled = true;
          state.error = 'Cancelled. The source is unchanged and no partial file was left behind.';
        } else state.error = (e as Error).message;
      }
      this.emit({ ...state });
      const t = setTimeout(() => this.tasks.delete(taskId), KEEP_FINISHED_MS);
      t.unref?.();
    })();
    this.tasks.set(taskId, { state, controller, finished });
    return taskId;
  }

  cancel(taskId: string): void {
    const t = this.tasks.get(taskId);
    if (!t) throw new Error('There is no such task (it may have finished a while ago).');
    if (t.state.done) return;
    t.controller.abort();
  }

  list(): TaskProgress[] {
    return [...this.tasks.values()].map((t) => ({ ...t.state }));
  }

  /** Resolves when the task has ended (tests, shutdown). */
  async wait(taskId: string): Promise<TaskProgress> {
    const t = this.tasks.get(taskId);
    if (!t) throw new Error(`no task ${taskId}`);
    await t.finished;
    return { ...t.state };
  }

  /** Abort every running task (host shutdown). */
  cancelAll(): void {
    for (const t of this.tasks.values()) if (!t.state.done) t.controller.abort();
  }
}

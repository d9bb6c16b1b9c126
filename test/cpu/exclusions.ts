// The checked-in exclusion list (exclusions.json): whole files skipped, and single
// vectors expected to fail, each with the reason the i686 result legitimately differs
// from the older silicon that recorded the vector. An excluded vector that passes is
// reported as a failure so the list only ever shrinks.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

interface SkipFile {
  suite: string;
  file: string;
  reason: string;
}
interface ExpectedFailures {
  suite: string;
  file: string;
  ids: string[];
  reason: string;
}
interface ExclusionFile {
  skipFiles: SkipFile[];
  expectedFailures: ExpectedFailures[];
}

export class Exclusions {
  private readonly skip = new Map<string, string>();
  private readonly expected = new Map<string, string>();

  constructor(file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'exclusions.json')) {
    const data = JSON.parse(readFileSync(file, 'utf8')) as ExclusionFile;
    for (const s of data.skipFiles) this.skip.set(`${s.suite}/${s.file}`, s.reason);
    for (const e of data.expectedFailures) for (const id of e.ids) this.expected.set(`${e.suite}/${e.file}/${id}`, e.reason);
  }

  /** Why the whole file is skipped, or undefined. */
  skipReason(suite: string, file: string): string | undefined {
    return this.skip.get(`${suite}/${file}`);
  }

  isExpectedFailure(suite: string, file: string, id: string): boolean {
    return this.expected.has(`${suite}/${file}/${id}`);
  }

  get expectedFailureCount(): number {
    return this.expected.size;
  }
}

/** Outcome counts for one file. */
export class FileResult {
  passed = 0;
  failed = 0;
  /** Expected failures that failed (and skipped files' tests are not counted here). */
  excluded = 0;
  readonly failures: string[] = [];

  constructor(
    readonly suite: string,
    readonly file: string,
    private readonly exclusions: Exclusions,
  ) {}

  /** Record one vector: `error` is null when it matched. */
  record(id: string, error: string | null): void {
    const expectedFail = this.exclusions.isExpectedFailure(this.suite, this.file, id);
    if (error === null) {
      if (expectedFail) {
        this.failed++;
        this.failures.push(`${id}: listed in exclusions.json but passes — remove it`);
      } else this.passed++;
    } else if (expectedFail) this.excluded++;
    else {
      this.failed++;
      this.failures.push(`${id}: ${error}`);
    }
  }
}

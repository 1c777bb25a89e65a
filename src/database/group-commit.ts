import type { DataSource, EntityManager } from 'typeorm';

interface Job {
  readonly work: (manager: EntityManager) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * Group commit: writes queued while one transaction is being committed are committed together in the
 * next. A caller's promise settles only after its transaction has committed, so a 2xx sent on it
 * acknowledges durable state; under load many writes share one commit (DESIGN.md, durability contract).
 *
 * Work functions only touch the database; callers update in-memory caches after the promise resolves.
 * When a batch fails, each of its jobs is retried alone so that one bad write fails only its own caller.
 */
export class GroupCommit {
  private queue: Job[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly delayMs: number,
    private readonly maxBatch = 1000,
  ) {}

  /** Runs `work` inside the next group transaction and resolves with its result once committed. */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Number of writes waiting for a commit. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when everything queued so far has been committed (or failed). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.start();
      }
      await this.running;
    }
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    if (this.delayMs === 0 || this.queue.length >= this.maxBatch) {
      this.start();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, this.delayMs);
  }

  private start(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = this.flush().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.start();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const results = await this.dataSource.transaction(async (manager) => {
        const out: unknown[] = [];
        for (const job of batch) out.push(await job.work(manager));
        return out;
      });
      batch.forEach((job, i) => {
        job.resolve(results[i]);
      });
    } catch (batchError) {
      if (batch.length === 1) {
        batch[0]?.reject(batchError);
        return;
      }
      for (const job of batch) {
        try {
          job.resolve(await this.dataSource.transaction((manager) => job.work(manager)));
        } catch (e) {
          job.reject(e);
        }
      }
    }
  }
}

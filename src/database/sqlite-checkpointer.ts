import { Worker } from 'node:worker_threads';

/**
 * WAL pages the main connection lets grow before it checkpoints by itself, a backstop for when the thread is
 * gone (64 MiB at 4 KiB pages; SQLite's default is 1000).
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 16_384;

/** WAL pages past which the next commit waits for the WAL to be started over (16 MiB at 4 KiB pages). */
const RESET_PAGES = 4096;

/** How often the thread copies committed pages into the database file. */
const INTERVAL_MS = 100;

/** Longest a commit waits for the thread's last checkpoint before going on regardless. */
const GATE_LIMIT_MS = 500;

/**
 * The thread's code (plain JavaScript, so that it runs the same from the build and from ts-node or jest). Every
 * INTERVAL_MS a PASSIVE checkpoint, which never waits for the writer; when the WAL has grown past RESET_PAGES
 * it says so, and on request copies what is left and starts the WAL over itself while the main connection holds
 * its commits.
 *
 * Between those restarts a second connection keeps a read transaction open at the last frame copied (`pin`).
 * SQLite starts the WAL over in the first commit after a checkpoint has copied every frame, and writing the new
 * WAL header syncs the file: in the main connection that is an fsync on the event loop, which under the disk
 * writeback of a loaded server took 100-300 ms. A reader still using the WAL keeps any writer from starting it
 * over (the main connection appends instead), and it costs the checkpoints nothing as the pin moves on to the
 * newest frame before each copy.
 */
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
function open() {
  const c = new Database(workerData.file);
  c.pragma('synchronous = NORMAL');
  c.pragma('busy_timeout = 0');
  // A checkpoint copies WAL frames straight into the file; the page cache would only hold the schema.
  c.pragma('cache_size = -64');
  return c;
}
const db = open();
const pin = open();
const pinRead = pin.prepare('SELECT 1 FROM sqlite_master LIMIT 1');
let pinned = false;
let told = false;
function unpin() {
  if (pinned) pin.exec('COMMIT');
  pinned = false;
}
// A new read transaction sees the newest frame; while some frame is not copied yet it reads through the WAL.
function repin() {
  unpin();
  try {
    pin.exec('BEGIN');
    pinRead.get();
    pinned = true;
  } catch (e) {
    if (pin.inTransaction) pin.exec('ROLLBACK');
  }
}
function checkpoint() {
  try {
    return db.pragma('wal_checkpoint(PASSIVE)')[0];
  } catch (e) {
    return { busy: 1, log: -1, checkpointed: -1 };
  }
}
// Copies up to the pin; when the WAL has more, moves the pin to its end and copies that too. Some frame is then
// still uncopied as the pin takes its read transaction, so it reads through the WAL (holding a WAL reader lock).
function copy() {
  const r = checkpoint();
  if (!pinned || r.log <= r.checkpointed) return r;
  repin();
  return checkpoint();
}
// While the main connection holds its commits: copy everything, then one commit of an unchanged page (page 1,
// written back with the same user_version) starts the WAL over here, syncing its header on this thread, and
// gives the pin a frame to read through. Without the pin (at start, or after a failure) the same, to set it.
function restart() {
  unpin();
  const r = checkpoint();
  if (r.busy !== 0 || r.log !== r.checkpointed) return;
  try {
    db.exec('BEGIN IMMEDIATE');
    db.pragma('user_version = ' + Number(db.pragma('user_version', { simple: true })));
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    return;
  }
  repin();
  checkpoint();
}
const timer = setInterval(() => {
  const r = copy();
  if ((r.log >= workerData.resetPages || !pinned) && !told) {
    told = true;
    parentPort.postMessage({ due: true });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m.close) {
    clearInterval(timer);
    unpin();
    pin.close();
    db.close();
    parentPort.close();
    return;
  }
  restart();
  told = false;
  parentPort.postMessage({ done: m.id });
});
`;

/**
 * WAL checkpoints of an SQLite file on a thread of their own. A checkpoint copies the pages of committed
 * transactions from the WAL into the database file and syncs it; SQLite runs one in the committing connection
 * every 1000 pages, which on the main thread stops the event loop for 20-40 ms every few megabytes written —
 * a stall every second or two under load, on SUBSCRIBE and PUBLISH answers alike. Here the copying and the
 * sync run beside the event loop, and the main connection checkpoints by itself only as a backstop.
 *
 * The WAL file starts over only in a commit that begins with every page already copied, and that commit syncs
 * the new WAL header. The thread keeps the main connection from ever being that commit (see WORKER_SOURCE): once
 * the WAL has grown past RESET_PAGES the group commit holds its next transaction (requests go on being read and
 * answered meanwhile) until the thread has copied what is left and started the WAL over itself.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private due = false;
  private next = 1;
  private readonly waiting = new Map<number, () => void>();
  private stopped = false;

  constructor(file: string) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file, resetPages: RESET_PAGES, intervalMs: INTERVAL_MS },
    });
    this.worker.unref();
    this.worker.on('message', (m: { due?: boolean; done?: number }) => {
      if (m.due === true) this.due = true;
      if (m.done !== undefined) {
        this.waiting.get(m.done)?.();
        this.waiting.delete(m.done);
      }
    });
    this.worker.on('error', () => {
      this.stop();
    });
    this.worker.on('exit', () => {
      this.stop();
    });
  }

  /**
   * Before a commit: undefined, or while the WAL is due to start over, a promise that settles once the thread has
   * copied what is left (or after GATE_LIMIT_MS at most).
   */
  beforeCommit(): Promise<void> | undefined {
    if (!this.due || this.stopped) return undefined;
    this.due = false;
    const id = this.next++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve();
      }, GATE_LIMIT_MS);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage({ id });
    });
  }

  /** Ends the thread after closing its connection. */
  async close(): Promise<void> {
    if (this.stopped) return;
    const exited = new Promise<void>((resolve) => {
      this.worker.once('exit', () => {
        resolve();
      });
    });
    this.worker.postMessage({ close: true });
    await exited;
  }

  private stop(): void {
    this.stopped = true;
    for (const release of this.waiting.values()) release();
    this.waiting.clear();
  }
}

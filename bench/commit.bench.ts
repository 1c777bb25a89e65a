/**
 * What committing a new subscription costs the main thread: GroupCommit upserts of `active_watchers` rows as
 * the SUBSCRIBE handler writes them (a dialog of ~500 bytes of JSON), in waves of --wave concurrent writes
 * (a wave shares one or two commits, as under load), on an SQLite file in WAL mode. Run with the writer thread
 * (the server's default on an SQLite file) and without it (every statement on the main thread, as on
 * `:memory:`), alternating, --rounds times each. Prints CPU µs per row of the main thread (Linux: read from
 * /proc/self/task) and of the whole process, and the rows committed per second. `npm run bench:commit`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { dataSourceOptions, sqlitePath } from '../src/database/data-source-options';
import { GroupCommit } from '../src/database/group-commit';
import { SqliteWriter } from '../src/database/sqlite-writer';
import { SubscriptionEntity } from '../src/pa/entities/subscription.entity';
import { parseArgs } from './load/common';

const args = parseArgs({ rows: 20000, wave: 64, rounds: 3, delay: 2 });

/** CPU ms of this process's main thread (utime + stime of its task), or NaN off Linux. */
function mainThreadCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

let serial = 0;
function row(i: number): SubscriptionEntity {
  const n = serial++;
  const callId = `bench${n}@127.0.0.1`;
  const dialog = {
    dialog: {
      callId,
      localTag: `t${n.toString(36)}`,
      remoteTag: `r${n}`,
      localUri: `<sip:p${i % 1000}@example.com>`,
      remoteUri: `<sip:w${n}@example.com>`,
      remoteTarget: `sip:w${n}@127.0.0.1:40000`,
      routeSet: [],
      localSeq: 0,
      remoteSeq: 1,
    },
    flow: {
      protocol: 'udp',
      localAddress: '127.0.0.1',
      localPort: 5060,
      remoteAddress: '127.0.0.1',
      remotePort: 40000,
    },
  };
  return Object.assign(new SubscriptionEntity(), {
    id: `0193abcd-${n.toString(16).padStart(4, '0').slice(-4)}-7abc-8def-${n.toString(16).padStart(12, '0')}`,
    kind: 'sip',
    owner: null,
    presentity: `sip:p${i % 1000}@example.com`,
    event: 'presence',
    eventId: null,
    watcher: `sip:w${n}@example.com`,
    status: 'active',
    accept: 'application/pidf+xml',
    callId,
    localTag: `t${n.toString(36)}`,
    dialog: JSON.stringify(dialog),
    eventParams: null,
    packageState: null,
    cseqReserved: 1000,
    remoteCseq: 1,
    expiresAt: Date.now() + 600_000,
    createdAt: Date.now(),
  });
}

async function round(ds: DataSource, file: string, thread: boolean): Promise<string> {
  const commits = new GroupCommit(ds, args.delay, {
    ...(thread && { sqliteWriter: () => new SqliteWriter(file, 50) }),
  });
  // Warm-up: statements prepared, thread started.
  await Promise.all(Array.from({ length: args.wave }, (_, i) => commits.upsert(SubscriptionEntity, `w${i}`, row(i))));
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  for (let done = 0; done < args.rows; done += args.wave) {
    const wave: Promise<void>[] = [];
    for (let i = 0; i < args.wave; i++) {
      const r = row(done + i);
      wave.push(commits.upsert(SubscriptionEntity, r.id, r));
    }
    await Promise.all(wave);
  }
  const ms = performance.now() - t0;
  const main = mainThreadCpuMs() - main0;
  const cpu = process.cpuUsage(cpu0);
  await commits.drain();
  await commits.close();
  const perRow = (x: number): string => ((x * 1000) / args.rows).toFixed(1);
  return (
    `${thread ? 'writer thread' : 'main thread  '}: main thread ${perRow(main)} µs/row, process ` +
    `${perRow((cpu.user + cpu.system) / 1000)} µs/row, ${Math.round((args.rows * 1000) / ms)} rows/s`
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ph-bench-commit-'));
  try {
    const target = { url: '', dataDir: dir };
    const ds = new DataSource({ ...dataSourceOptions(target), migrationsRun: true });
    await ds.initialize();
    const file = sqlitePath(target);
    console.log(`# ${args.rows} rows in waves of ${args.wave}, commit delay ${args.delay} ms, SQLite ${file}`);
    for (let r = 0; r < args.rounds; r++) {
      console.log(await round(ds, file, false));
      console.log(await round(ds, file, true));
    }
    await ds.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

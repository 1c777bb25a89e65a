import { DataSource } from 'typeorm';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../test/utils/test-database';
import { resolveDataSourceOptions } from '../../database/data-source-options';
import { FIELD_LIMITS } from '../../common/field-limits';
import { GroupCommit } from '../../database/group-commit';
import { Dialog, type Flow } from '../../sip';
import { CSEQ_BLOCK, type SipSubscription } from './subscription';
import { SubscriptionRepository } from './subscription.repository';

const FLOW: Flow = {
  protocol: 'udp',
  localAddress: '127.0.0.1',
  localPort: 5060,
  remoteAddress: '192.0.2.10',
  remotePort: 5062,
};

function subscription(id: string, extra: Partial<SipSubscription> = {}): SipSubscription {
  const dialog = Dialog.fromJSON({
    callId: `call-${id}`,
    localTag: `ours-${id}`,
    remoteTag: `theirs-${id}`,
    localUri: '<sip:alice@example.com>',
    remoteUri: '<sip:bob@example.com>',
    remoteTarget: 'sip:bob@192.0.2.10:5062',
    routeSet: [],
    localSeq: 7,
    remoteSeq: 1,
  });
  return {
    kind: 'sip',
    id,
    presentity: 'sip:alice@example.com',
    event: 'reg',
    watcher: 'sip:bob@example.com',
    accept: ['application/reginfo+xml'],
    status: 'active',
    expiresAt: 2_000_000_000_000,
    createdAt: 1_000,
    dialog,
    flow: FLOW,
    remoteCseq: 1,
    cseqReserved: 7 + CSEQ_BLOCK,
    notifyQueue: undefined,
    ...extra,
  };
}

describe.each(databaseKinds())('SubscriptionRepository on %s', (kind) => {
  let db: TestDatabase;
  let ds: DataSource;
  let repo: SubscriptionRepository;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ds = new DataSource({ ...(await resolveDataSourceOptions(db)), migrationsRun: true });
    await ds.initialize();
    repo = new SubscriptionRepository(ds, new GroupCommit(ds, 0));
  });

  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('keeps Event parameters and the package state of a subscription across a restart', async () => {
    await repo.save(
      subscription('with-state', {
        eventId: 'e1',
        eventParams: { view: 'mine', flag: null },
        packageState: { version: 41, sent: ['c1', 'c2'] },
      }),
    );
    await repo.save(subscription('plain'));
    const loaded = new Map((await repo.loadSip()).map((s) => [s.id, s]));

    const rich = loaded.get('with-state');
    expect(rich?.eventId).toBe('e1');
    expect(rich?.eventParams).toEqual({ view: 'mine', flag: null });
    expect(rich?.packageState).toEqual({ version: 41, sent: ['c1', 'c2'] });
    expect(rich?.dialog.localSeq).toBe(7 + CSEQ_BLOCK);

    const plain = loaded.get('plain');
    expect(plain).toBeDefined();
    expect(plain && 'eventParams' in plain).toBe(false);
    expect(plain && 'packageState' in plain).toBe(false);
  });

  it('stores the dialog without what the row holds besides, and reads rows of the older whole form', async () => {
    const sub = subscription('compact', { presentity: 'sip:alice@example.com', watcher: 'sip:bob@example.com' });
    sub.dialog.flow = sub.flow;
    await repo.save(sub);
    const [row] = await ds.query<{ dialog: string }[]>('SELECT dialog FROM active_watchers WHERE id = ?', ['compact']);
    expect(row.dialog).not.toContain('call-compact');
    expect(row.dialog).not.toContain('ours-compact');
    expect(row.dialog).not.toContain('<sip:alice@example.com>');
    expect(row.dialog.split('192.0.2.10').length - 1).toBe(2); // the flow once, and the remote target

    const whole = {
      dialog: { ...sub.dialog.toJSON(), remoteTarget: 'sip:bob@192.0.2.99:5070' },
      flow: { ...FLOW, remotePort: 5099 },
    };
    await repo.save(subscription('whole'));
    await ds.query('UPDATE active_watchers SET dialog = ? WHERE id = ?', [JSON.stringify(whole), 'whole']);
    const loaded = new Map((await repo.loadSip()).map((s) => [s.id, s]));
    const compact = loaded.get('compact');
    expect(compact?.dialog.toJSON()).toEqual({ ...sub.dialog.toJSON(), localSeq: 7 + CSEQ_BLOCK });
    expect(compact?.dialog.flow).toBe(compact?.flow);
    // A watcher longer than its column (stored cut) keeps its address in the dialog.
    const longWatcher = `sip:${'w'.repeat(FIELD_LIMITS.watcher.max)}@example.com`;
    const long = subscription('long-watcher', { watcher: longWatcher });
    const longDialog = Dialog.fromJSON({ ...long.dialog.toJSON(), remoteUri: `<${longWatcher}>` });
    await repo.save({ ...long, dialog: longDialog });
    const reloaded = (await repo.loadSip()).find((s) => s.id === 'long-watcher');
    expect(reloaded?.dialog.toJSON().remoteUri).toBe(`<${longWatcher}>`);
    const old = loaded.get('whole');
    expect(old?.dialog.callId).toBe('call-compact');
    expect(old?.dialog.remoteTarget.toString()).toBe('sip:bob@192.0.2.99:5070');
    expect(old?.dialog.flow).toEqual(FLOW);
    expect(old?.flow.remotePort).toBe(5099);
  });

  it('keeps what the row does not hold: display names, a route set, quotes, a dialog flow of its own', async () => {
    const dialog = Dialog.fromJSON({
      callId: 'call-rich',
      localTag: 'ours-rich',
      remoteTag: 'theirs-rich',
      localUri: '"Alice \\"A\\"" <sip:alice@example.com>',
      remoteUri: 'Bob <sip:bob@example.com>',
      remoteTarget: 'sip:bob@192.0.2.10:5062;transport=tcp',
      routeSet: ['<sip:proxy1.example.com;lr>', '<sip:proxy2.example.com;lr>'],
      localSeq: 3,
      remoteSeq: 9,
      flow: { ...FLOW, remotePort: 5070 },
    });
    const sub = subscription('rich', { dialog, cseqReserved: 3 + CSEQ_BLOCK });
    expect(sub.dialog.localIs(sub.presentity)).toBe(false);
    expect(sub.dialog.remoteIs(sub.watcher)).toBe(false);
    await repo.save(sub);
    const [row] = await ds.query<{ dialog: string }[]>('SELECT dialog FROM active_watchers WHERE id = ?', ['rich']);
    expect(() => JSON.parse(row.dialog) as unknown).not.toThrow();
    const loaded = (await repo.loadSip()).find((s) => s.id === 'rich');
    expect(loaded?.dialog.toJSON()).toEqual({ ...dialog.toJSON(), localSeq: 3 + CSEQ_BLOCK });
    expect(loaded?.flow).toEqual(FLOW);
    expect(loaded?.dialog.flow).toEqual({ ...FLOW, remotePort: 5070 });
  });

  it('keeps internal watchers with their owner, apart from SIP ones', async () => {
    await repo.saveInternal({
      kind: 'internal',
      id: 'internal-1',
      owner: 'b2b',
      presentity: 'sip:carol@remote.example',
      event: 'dialog',
      watcher: 'sip:hub@example.com',
      accept: [],
      status: 'active',
      expiresAt: 2_000_000_000_000,
      createdAt: 2_000,
      deliver: () => undefined,
    });
    const internal = await repo.loadInternal();
    expect(internal.find((s) => s.id === 'internal-1')).toEqual({
      kind: 'internal',
      id: 'internal-1',
      owner: 'b2b',
      presentity: 'sip:carol@remote.example',
      event: 'dialog',
      watcher: 'sip:hub@example.com',
      accept: [],
      status: 'active',
      expiresAt: 2_000_000_000_000,
      createdAt: 2_000,
    });
    expect((await repo.loadSip()).some((s) => s.id === 'internal-1')).toBe(false);
    await repo.remove('internal-1');
    expect((await repo.loadInternal()).some((s) => s.id === 'internal-1')).toBe(false);
  });
});

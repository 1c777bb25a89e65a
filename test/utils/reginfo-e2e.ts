/**
 * Helpers of the `reg` (RFC 3680) end-to-end suites: a watcher's dialog whose every NOTIFY body is checked
 * against the RFC's schema and whose versions must grow by exactly one, and reginfo documents to PUBLISH.
 */
import * as path from 'node:path';
import { parseReginfo, type Reginfo, type ReginfoContact } from '../../src/presence-reginfo/reginfo';
import { nextNotify, subscriptionState } from './presence-e2e';
import type { SipTestClient, SipTestDialog, SipTestMessage } from './sip-test-client';
import { validateXml } from './xml-schema';

export const REGINFO_XSD = path.resolve(__dirname, '..', 'fixtures', 'xsd', 'reginfo.xsd');
export const REGINFO_TYPE = 'application/reginfo+xml';

/** Checks a body against the reginfo schema (RFC 3680 §5.4) and reads it. */
export function validReginfo(body: string): Reginfo {
  const result = validateXml(body, REGINFO_XSD);
  if (!result.ok) throw new Error(`reginfo body does not validate against reginfo.xsd: ${result.errors}\n${body}`);
  return parseReginfo(body);
}

/** The contacts of a document as `id/state/event` lines, registration by registration. */
export function contactEvents(doc: Reginfo): string[] {
  return doc.registrations.flatMap((r) => r.contacts.map((c) => `${c.id}/${c.state}/${c.event}`));
}

/** The contacts of the first registration of a document. */
export function contactsOf(doc: Reginfo): readonly ReginfoContact[] {
  return doc.registrations[0]?.contacts ?? [];
}

/** A reg subscription seen from the watcher: each NOTIFY schema-valid, versions 0, 1, 2, ... */
export class RegWatch {
  private version: number | undefined;
  readonly docs: Reginfo[] = [];

  constructor(
    readonly client: SipTestClient,
    readonly dialog: SipTestDialog,
    version?: number,
  ) {
    this.version = version;
  }

  /** The version of the last NOTIFY. */
  get lastVersion(): number | undefined {
    return this.version;
  }

  /** The next NOTIFY's document; fails unless its version is the previous one + 1 (0 for the first). */
  async next(timeoutMs = 5000): Promise<{ doc: Reginfo; notify: SipTestMessage }> {
    const notify = await nextNotify(this.client, this.dialog.callId, timeoutMs);
    expect(notify.header('event')).toMatch(/^reg\b/);
    expect(notify.header('content-type')).toBe(REGINFO_TYPE);
    expect(subscriptionState(notify).state).toMatch(/^(active|terminated)$/);
    const doc = validReginfo(notify.body);
    const expected = this.version === undefined ? 0 : this.version + 1;
    if (doc.version !== expected) {
      throw new Error(`NOTIFY version ${doc.version}, expected ${expected}:\n${notify.body}`);
    }
    this.version = doc.version;
    this.docs.push(doc);
    return { doc, notify };
  }

  /** Waits for the next NOTIFY and expects it partial, with these `id/state/event` contacts. */
  async partial(events: string[], timeoutMs = 5000): Promise<Reginfo> {
    const { doc } = await this.next(timeoutMs);
    expect(doc.state).toBe('partial');
    expect(contactEvents(doc)).toEqual(events);
    return doc;
  }
}

/** A reginfo document as pua_reginfo PUBLISHes it: one registration of `aor` with the given contacts. */
export function publishedReginfo(
  aor: string,
  id: string,
  contacts: readonly { id: string; uri: string; expires?: number }[],
  version = 0,
): string {
  const items = contacts
    .map(
      (c) =>
        `<contact id="${c.id}" state="active" event="registered" expires="${c.expires ?? 600}"><uri>${c.uri}</uri></contact>`,
    )
    .join('');
  return (
    `<?xml version="1.0"?>\n<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="${version}" state="full">` +
    `<registration aor="${aor}" id="${id}" state="${contacts.length ? 'active' : 'init'}">${items}</registration></reginfo>`
  );
}

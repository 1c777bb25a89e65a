/**
 * Two Presence Hub instances on loopback for the pua_reginfo suites: each on fixed free ports (kept across
 * its restarts), publishing and subscribing through the other as outbound proxy, each trusting the other's
 * reg subscriptions. Counters of what each one's pua_reginfo did, for the loop checks.
 */
import type { RunningApp } from '../../src/app.factory';
import { LocationService } from '../../src/location/location.service';
import { ReginfoSubscriptions } from '../../src/pua-reginfo/reginfo-subscriptions.service';
import { PUA_REGINFO_OWNER } from '../../src/pua-reginfo/reginfo-publisher.service';
import { SipClientService } from '../../src/sip-client/sip-client.service';
import { api, registrationPath } from './e2e-helpers';
import { freePort, startTestApp } from './test-app';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from './test-database';

/** What one instance's pua_reginfo did since it (re)started. */
export interface HubCounts {
  /** Outgoing publication or subscription state changes (one per answered PUBLISH or SUBSCRIBE, roughly). */
  client: number;
  /** Reginfo NOTIFYs applied to the location service. */
  applied: number;
  /** Committed location changes (REGISTER, learned contacts, expiry). */
  location: number;
}

export class Hub {
  app: RunningApp | undefined;
  counts: HubCounts = { client: 0, applied: 0, location: 0 };

  private constructor(
    readonly name: string,
    readonly db: TestDatabase,
    readonly sipPort: number,
    readonly httpPort: number,
  ) {}

  static async create(name: string, kind: TestDatabaseKind): Promise<Hub> {
    return new Hub(name, await createTestDatabase(kind), await freePort(), await freePort());
  }

  get serverAddress(): string {
    return `sip:reginfo@127.0.0.1:${this.sipPort}`;
  }

  /** Starts (or restarts) the instance, publishing and subscribing through `peer`. */
  async start(peer: Hub, extra: Record<string, string> = {}): Promise<void> {
    this.app = await startTestApp(this.db, {
      SIP_PORT: String(this.sipPort),
      HTTP_PORT: String(this.httpPort),
      PUA_REGINFO_OUTBOUND_PROXY: `sip:127.0.0.1:${peer.sipPort}`,
      PUA_REGINFO_SERVER_ADDRESS: this.serverAddress,
      PRESENCE_REGINFO_TRUSTED_WATCHERS: '127.0.0.1',
      REGISTRAR_MIN_EXPIRES: '1',
      REGISTRAR_TIMER_INTERVAL: '1',
      PA_MIN_EXPIRES: '1',
      PA_PUBLISH_MIN_EXPIRES: '1',
      SIP_CLIENT_RETRY_AFTER: '1',
      PUA_REGINFO_UL_IDENTITIES_KEY: 'identities',
      ...extra,
    });
    this.counts = { client: 0, applied: 0, location: 0 };
    this.client.onStatus(PUA_REGINFO_OWNER, () => {
      this.counts.client++;
    });
    this.app.app.get(ReginfoSubscriptions).onApplied(() => {
      this.counts.applied++;
    });
    this.app.app.get(LocationService).onChange(() => {
      this.counts.location++;
    });
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }

  get client(): SipClientService {
    if (!this.app) throw new Error(`${this.name} is not running`);
    return this.app.app.get(SipClientService);
  }

  /** The URIs of an AoR's bindings here, each with its origin (`local` for REGISTERed ones). */
  async contacts(aor: string): Promise<string[]> {
    const res = await api(this.httpPort, 'GET', registrationPath(aor));
    if (res.status === 404) return [];
    const contacts = res.json.contacts as { uri: string; origin?: string }[];
    return contacts.map((c) => `${c.uri} ${c.origin ?? 'local'}`).sort();
  }

  /** The AoRs of the registrations of an AoR's reg state here. */
  async regAors(aor: string): Promise<string[]> {
    const res = await api(this.httpPort, 'GET', `/api/presentities/${encodeURIComponent(aor)}/reg`);
    const regs = (res.json.registrations ?? []) as { aor: string }[];
    return [...new Set(regs.map((r) => r.aor))].sort();
  }

  /** The contact URIs of the AoR's reg state here (local, learned and published), each once, as REST shows it. */
  async regContacts(aor: string): Promise<string[]> {
    const res = await api(this.httpPort, 'GET', `/api/presentities/${encodeURIComponent(aor)}/reg`);
    const state = (res.json.state ?? res.json) as { registrations?: { contacts: { uri: string; state: string }[] }[] };
    const uris = (state.registrations ?? []).flatMap((r) =>
      r.contacts.filter((c) => c.state === 'active').map((c) => c.uri),
    );
    return [...new Set(uris)].sort();
  }
}

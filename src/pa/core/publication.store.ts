import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ExpiryQueue } from '../../common/expiry-queue';
import { CLOCK } from '../../common/ports.module';
import type { Clock } from '../../sip';
import type { Publication } from './publication';
import { PublicationRepository } from './publication.repository';

const key = (presentity: string, event: string): string => `${event}\u0000${presentity}`;

/** Live publications in memory, rebuilt from the database at start; written through before any 2xx. */
@Injectable()
export class PublicationStore implements OnModuleInit {
  private readonly byPresentity = new Map<string, Publication[]>();
  private readonly byEtag = new Map<string, Publication>();
  private readonly expiry = new ExpiryQueue<Publication>();

  constructor(
    private readonly repo: PublicationRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const p of await this.repo.loadAll()) this.put(p);
  }

  /** Live publications of a presentity for an event, newest modification first. */
  find(presentity: string, event: string, now = this.clock.now()): Publication[] {
    return (this.byPresentity.get(key(presentity, event)) ?? [])
      .filter((p) => p.expiresAt > now)
      .sort((a, b) => b.modifiedAt - a.modifiedAt);
  }

  byTag(etag: string): Publication | undefined {
    return this.byEtag.get(etag);
  }

  /** Publications whose expiry has passed (still stored until removed). */
  expired(now: number): Publication[] {
    return this.expiry.expired(now, (p) => (this.byEtag.get(p.etag) === p ? p.expiresAt : undefined), this.byEtag.size);
  }

  /** Every presentity with publications of `event`. */
  presentities(event: string): string[] {
    const out: string[] = [];
    for (const list of this.byPresentity.values()) if (list[0]?.event === event) out.push(list[0].presentity);
    return out;
  }

  async save(p: Publication, previous?: Publication): Promise<void> {
    await this.repo.save(p);
    if (previous) this.drop(previous);
    this.put(p);
  }

  async remove(p: Publication): Promise<void> {
    await this.repo.remove(p.id);
    this.drop(p);
  }

  private put(p: Publication): void {
    const k = key(p.presentity, p.event);
    const list = this.byPresentity.get(k) ?? [];
    list.push(p);
    this.byPresentity.set(k, list);
    this.byEtag.set(p.etag, p);
    this.expiry.push(p, p.expiresAt);
  }

  private drop(p: Publication): void {
    const k = key(p.presentity, p.event);
    const list = (this.byPresentity.get(k) ?? []).filter((x) => x.id !== p.id);
    if (list.length) this.byPresentity.set(k, list);
    else this.byPresentity.delete(k);
    if (this.byEtag.get(p.etag)?.id === p.id) this.byEtag.delete(p.etag);
  }
}

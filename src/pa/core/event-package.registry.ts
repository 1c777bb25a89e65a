import { Injectable } from '@nestjs/common';
import type { EventPackage } from './event-package';

export type PackageListener = (pkg: EventPackage) => void;

/**
 * The event packages the presence core serves (Kamailio's `pres_add_event`). Feature modules add theirs
 * at init; the core never imports them.
 */
@Injectable()
export class EventPackageRegistry {
  private readonly packages = new Map<string, EventPackage>();
  private readonly listeners: PackageListener[] = [];

  add(pkg: EventPackage): void {
    const name = pkg.name.toLowerCase();
    if (this.packages.has(name)) throw new Error(`event package ${name} is already registered`);
    if (pkg.notifyContentTypes.length === 0) throw new Error(`event package ${name} renders no content type`);
    this.packages.set(name, pkg);
    for (const l of this.listeners) l(pkg);
  }

  get(name: string): EventPackage | undefined {
    return this.packages.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.packages.keys()].sort();
  }

  all(): EventPackage[] {
    return [...this.packages.values()];
  }

  /** Names of the packages that accept publications (RFC 3903), sorted. */
  publishable(): string[] {
    return this.names().filter((n) => this.packages.get(n)?.publish);
  }

  /** Calls `listener` for every package registered so far and every one registered later. */
  onAdd(listener: PackageListener): void {
    this.listeners.push(listener);
    for (const p of this.packages.values()) listener(p);
  }
}

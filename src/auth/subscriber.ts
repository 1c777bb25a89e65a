/** A digest user (no password: HA1s only). */
export interface Subscriber {
  readonly id: string;
  readonly username: string;
  readonly domain: string;
  readonly realm: string;
  readonly ha1Md5: string;
  readonly ha1Sha256: string;
  readonly createdAt: number;
  readonly modifiedAt: number;
}

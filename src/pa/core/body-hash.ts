import type { NotifyBody } from './event-package';

/** The hash of "no body" (a NOTIFY without one); a body's hash is never negative. */
const NO_BODY = -1;

/** The last body hashed and its hash: a fan-out hashes one shared body for all its watchers once. */
let lastBody: NotifyBody | undefined;
let lastHash = 0;

/**
 * A 53-bit hash of a NOTIFY body (media type and text or bytes), to tell whether a watcher was already sent the same
 * body without keeping the body. Two independent 32-bit multiplicative hashes over the UTF-16 code units,
 * mixed and folded into the 53 bits a number holds exactly: a chance match between different bodies is about
 * one in 2^53.
 */
export function bodyHash(body: NotifyBody | null): number {
  if (body === null) return NO_BODY;
  if (body === lastBody) return lastHash;
  const seed = hash53(body.contentType, 0);
  const hash = typeof body.body === 'string' ? hash53(body.body, seed) : hashBytes(body.body, seed);
  lastBody = body;
  lastHash = hash;
  return hash;
}

/** 53-bit hash of bytes, as {@link hash53} of text. */
export function hashBytes(bytes: Uint8Array, seed: number): number {
  let a = 0x9e3779b1 ^ (seed >>> 0) ^ 0x5f;
  let b = 0x85ebca77 ^ Math.floor(seed / 0x100000000);
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return mix(a, b);
}

/** Folds the two 32-bit states into 53 bits. */
function mix(a: number, b: number): number {
  a = Math.imul(a ^ (a >>> 15), 0x2c1b3c6d) ^ Math.imul(b ^ (b >>> 13), 0x297a2d39);
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  return (b & 0x1fffff) * 0x100000000 + (a >>> 0);
}

/** 53-bit hash of `text`, seeded (so that media type and body chain). */
export function hash53(text: string, seed: number): number {
  let a = 0x9e3779b1 ^ (seed >>> 0);
  let b = 0x85ebca77 ^ Math.floor(seed / 0x100000000);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return mix(a, b);
}

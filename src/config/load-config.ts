import { readFileSync } from 'node:fs';
import type { AppConfig } from './app-config';
import { envName, SETTINGS, type Setting } from './config-schema';

/** A configuration that cannot be used; the message names every bad key and what it allows. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;
type Value = number | boolean | string | readonly string[];

function describe(setting: Setting): string {
  const t = setting.type;
  switch (t.kind) {
    case 'int':
      return `an integer from ${t.min} to ${t.max}`;
    case 'bool':
      return 'true or false';
    case 'string':
      return t.hint ?? 'a string';
    case 'enum':
      return `one of ${t.values.join(', ')}`;
    case 'list':
      return t.hint ?? 'a comma-separated list or an array of strings';
  }
}

function coerce(setting: Setting, input: unknown): Value | undefined {
  const t = setting.type;
  switch (t.kind) {
    case 'int': {
      const n =
        typeof input === 'number'
          ? input
          : typeof input === 'string' && /^-?\d+$/.test(input.trim())
            ? Number(input)
            : NaN;
      return Number.isInteger(n) && n >= t.min && n <= t.max ? n : undefined;
    }
    case 'bool':
      if (typeof input === 'boolean') return input;
      if (typeof input === 'string' && /^(true|1|yes|on)$/i.test(input.trim())) return true;
      if (typeof input === 'string' && /^(false|0|no|off)$/i.test(input.trim())) return false;
      return undefined;
    case 'string':
      if (typeof input !== 'string') return undefined;
      return !t.pattern || t.pattern.test(input) ? input : undefined;
    case 'enum':
      return typeof input === 'string' && t.values.includes(input) ? input : undefined;
    case 'list': {
      const items = listItems(input);
      return items?.every((v) => t.item?.test(v) ?? true) ? items : undefined;
    }
  }
}

/** The entries of a list setting, trimmed and lower-cased: an array of strings, or a comma-separated string. */
function listItems(input: unknown): string[] | undefined {
  if (typeof input === 'string') input = input.split(',').filter((v) => v.trim() !== '');
  if (!Array.isArray(input) || !input.every((v) => typeof v === 'string')) return undefined;
  return input.map((v) => v.trim().toLowerCase());
}

function readFileConfig(path: string, problems: string[]): Raw {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problems.push(`CONFIG_FILE ${path} must hold a JSON object`);
      return {};
    }
    return parsed as Raw;
  } catch (e) {
    problems.push(`CONFIG_FILE ${path} cannot be read: ${(e as Error).message}`);
    return {};
  }
}

function fileValue(file: Raw, key: string): unknown {
  const [section, name] = key.split('.') as [string, string];
  const s = file[section];
  return typeof s === 'object' && s !== null ? (s as Raw)[name] : undefined;
}

function unknownFileKeys(file: Raw): string[] {
  const known = new Set(SETTINGS.map((s) => s.key));
  const sections = new Set(SETTINGS.map((s) => s.key.split('.')[0]));
  const out: string[] = [];
  for (const [section, body] of Object.entries(file)) {
    if (!sections.has(section)) {
      out.push(`${section} is not a configuration section (allowed: ${[...sections].join(', ')})`);
      continue;
    }
    if (typeof body !== 'object' || body === null) {
      out.push(`${section} must be an object`);
      continue;
    }
    for (const name of Object.keys(body)) {
      if (!known.has(`${section}.${name}`)) out.push(`${section}.${name} is not a known setting`);
    }
  }
  return out;
}

function setPath(target: Record<string, Record<string, Value>>, key: string, value: Value): void {
  const [section, name] = key.split('.') as [string, string];
  target[section] ??= {};
  target[section][name] = value;
}

function crossChecks(c: AppConfig): string[] {
  const out: string[] = [];
  const bounds = (prefix: string, min: number, def: number, max: number): void => {
    if (min > max) out.push(`${prefix}.minExpires (${min}) must not exceed ${prefix}.maxExpires (${max})`);
    if (def > max) out.push(`${prefix}.defaultExpires (${def}) must not exceed ${prefix}.maxExpires (${max})`);
  };
  bounds('registrar', c.registrar.minExpires, c.registrar.defaultExpires, c.registrar.maxExpires);
  bounds('pa', c.pa.minExpires, c.pa.defaultExpires, c.pa.maxExpires);
  if (c.pa.publishMinExpires > c.pa.publishMaxExpires) {
    out.push(`pa.publishMinExpires (${c.pa.publishMinExpires}) must not exceed pa.publishMaxExpires`);
  }
  if (c.auth.algorithms.length === 0) out.push('auth.algorithms must name SHA-256, MD5 or both');
  if (c.sip.t1 > c.sip.t2) out.push(`sip.t1 (${c.sip.t1}) must not exceed sip.t2 (${c.sip.t2})`);
  if (c.sip.tcp && c.sip.port !== 0 && c.sip.port === c.http.port) {
    out.push(`sip.port and http.port (${c.http.port}) must differ: SIP over TCP and HTTP both listen on TCP`);
  }
  const pair = (section: string, cert: string, key: string): void => {
    if ((cert === '') !== (key === '')) out.push(`${section}.tlsCert and ${section}.tlsKey must be set together`);
  };
  pair('sip', c.sip.tlsCert, c.sip.tlsKey);
  pair('http', c.http.tlsCert, c.http.tlsKey);
  if (c.sip.tlsCa !== '' && c.sip.tlsCert === '') out.push('sip.tlsCa needs sip.tlsCert and sip.tlsKey');
  if (c.sip.tlsCert !== '' && c.sip.tlsPort !== 0 && c.sip.tlsPort === c.http.port) {
    out.push(`sip.tlsPort and http.port (${c.http.port}) must differ`);
  }
  if (c.sip.tlsCert !== '' && c.sip.tcp && c.sip.tlsPort !== 0 && c.sip.tlsPort === c.sip.port) {
    out.push(`sip.tlsPort and sip.port (${c.sip.port}) must differ: SIP over TCP and over TLS both listen on TCP`);
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * Reads the configuration once: defaults, then the JSON file named by CONFIG_FILE, then environment
 * variables (`SECTION_KEY`, e.g. `PA_DEFAULT_EXPIRES`, plus the short names HTTP_PORT, SIP_PORT, DB_URL,
 * DATA_DIR, LOG_LEVEL). Throws {@link ConfigError} listing every invalid value.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  const problems: string[] = [];
  const file = env.CONFIG_FILE ? readFileConfig(env.CONFIG_FILE, problems) : {};
  problems.push(...unknownFileKeys(file));
  const out: Record<string, Record<string, Value>> = {};
  for (const setting of SETTINGS) {
    let value: Value = setting.default;
    const fromFile = fileValue(file, setting.key);
    if (fromFile !== undefined) {
      const v = coerce(setting, fromFile);
      if (v === undefined)
        problems.push(`${setting.key} must be ${describe(setting)}, got ${JSON.stringify(fromFile)}`);
      else value = v;
    }
    for (const name of [envName(setting.key), ...(setting.env ?? [])]) {
      const raw = env[name];
      if (raw === undefined || raw === '') continue;
      const v = coerce(setting, raw);
      if (v === undefined)
        problems.push(`${setting.key} (${name}) must be ${describe(setting)}, got ${JSON.stringify(raw)}`);
      else value = v;
    }
    setPath(out, setting.key, value);
  }
  const config = out as unknown as AppConfig;
  if (problems.length === 0) problems.push(...crossChecks(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/**
 * Small helpers shared by the registrar and robustness end-to-end suites: JSON over HTTP and polling with a
 * deadline (tests wait for a condition, not for a fixed time).
 */

export interface ApiResponse {
  readonly status: number;
  readonly contentType: string;
  /** Parsed JSON body when it is a JSON object; an empty object otherwise (see `text`). */
  readonly json: Record<string, unknown>;
  readonly text: string;
}

/** One HTTP request to the app on 127.0.0.1; a body object is sent as JSON. */
export async function api(
  httpPort: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...headers };
  }
  const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, init);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the caller reads `text`
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', json, text };
}

/** `/api/registrations/<aor>` with the AoR url-encoded. */
export function registrationPath(aor: string): string {
  return `/api/registrations/${encodeURIComponent(aor)}`;
}

/**
 * Calls `probe` until it returns a value other than undefined, or rejects with the last value described
 * once `timeoutMs` has passed.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

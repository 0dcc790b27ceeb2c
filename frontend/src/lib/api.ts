// The HTTP client of the gateway's API: bearer token, one refresh on 401, typed errors.
import type { AuthSession, ErrorBody } from "@proto/messages";
import { RequestError, isErrorCode } from "./errors";

/** Where the session (tokens and user) is kept between page loads. */
export interface SessionKeeper {
  load(): AuthSession | null;
  save(session: AuthSession | null): void;
}

/** A `SessionKeeper` on Web Storage (`localStorage` in the browser). */
export function storageSessionKeeper(storage: Storage, key = "makefx.session"): SessionKeeper {
  return {
    load() {
      const text = storage.getItem(key);
      if (text === null) return null;
      try {
        return JSON.parse(text) as AuthSession;
      } catch {
        // A corrupt entry is as good as none: the user signs in again.
        storage.removeItem(key);
        return null;
      }
    },
    save(session) {
      if (session === null) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(session));
    },
  };
}

/** A keeper that forgets everything when the page goes (tests, private windows). */
export function memorySessionKeeper(initial: AuthSession | null = null): SessionKeeper {
  let session = initial;
  return {
    load: () => session,
    save: (next) => {
      session = next;
    },
  };
}

export type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export interface RequestOptions {
  body?: unknown;
  /** send the access token (default true) */
  authenticated?: boolean;
}

export interface ApiClientOptions {
  keeper: SessionKeeper;
  /** prefix of every path; "" means the page's own origin */
  baseUrl?: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** how long before its expiry a token counts as expired, so it is refreshed first */
  refreshMarginMs?: number;
}

type SessionListener = (session: AuthSession | null) => void;

export class ApiClient {
  readonly baseUrl: string;
  private readonly keeper: SessionKeeper;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly refreshMarginMs: number;
  private current: AuthSession | null;
  private refreshing: Promise<AuthSession | null> | null = null;
  private readonly listeners = new Set<SessionListener>();

  constructor(options: ApiClientOptions) {
    this.keeper = options.keeper;
    this.baseUrl = options.baseUrl ?? "";
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
    this.refreshMarginMs = options.refreshMarginMs ?? 30_000;
    this.current = this.keeper.load();
  }

  get session(): AuthSession | null {
    return this.current;
  }

  setSession(session: AuthSession | null): void {
    this.current = session;
    this.keeper.save(session);
    for (const listener of this.listeners) listener(session);
  }

  /** Calls `listener` whenever the session changes (sign in, refresh, sign out, expiry). */
  onSessionChange(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A usable access token, refreshed first when it is about to expire; null when signed out. */
  async accessToken(): Promise<string | null> {
    const session = this.current;
    if (session === null) return null;
    if (Date.parse(session.expiresAt) - this.refreshMarginMs > this.now()) return session.accessToken;
    const refreshed = await this.refresh();
    return refreshed?.accessToken ?? null;
  }

  /**
   * Trades the refresh token for a new session, once however many callers ask at the same
   * time. A refused refresh signs the user out; a network failure keeps the session.
   */
  refresh(): Promise<AuthSession | null> {
    if (this.refreshing !== null) return this.refreshing;
    const session = this.current;
    if (session === null) return Promise.resolve(null);
    this.refreshing = (async () => {
      try {
        const next = await this.send<AuthSession>("POST", "/api/auth/refresh", {
          body: { refreshToken: session.refreshToken },
          authenticated: false,
        });
        this.setSession(next);
        return next;
      } catch (error) {
        if (error instanceof RequestError && error.status !== 0 && error.status < 500) {
          this.setSession(null);
          return null;
        }
        throw error;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** One API call. A 401 on an authenticated call refreshes the session once and retries. */
  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const authenticated = options.authenticated ?? true;
    try {
      return await this.send<T>(method, path, options, authenticated ? await this.accessToken() : null);
    } catch (error) {
      const expired = error instanceof RequestError && error.status === 401;
      if (!authenticated || !expired || this.current === null) throw error;
      const refreshed = await this.refresh();
      if (refreshed === null) throw error;
      return this.send<T>(method, path, options, refreshed.accessToken);
    }
  }

  private async send<T>(
    method: Method,
    path: string,
    options: RequestOptions,
    token: string | null = null,
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        credentials: "same-origin",
      });
    } catch (cause) {
      throw new RequestError("UNAVAILABLE", `the server cannot be reached (${String(cause)})`, 0);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const parsed: unknown = text === "" ? undefined : safeJson(text);
    if (!response.ok) throw errorOf(response.status, parsed);
    return parsed as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(status: number, body: unknown): RequestError {
  const error = (body as Partial<ErrorBody> | undefined)?.error;
  if (error !== undefined && isErrorCode(error.code)) {
    return new RequestError(error.code, error.message, status, error.details ?? {});
  }
  const code =
    status === 401
      ? "UNAUTHENTICATED"
      : status === 403
        ? "PERMISSION_DENIED"
        : status === 404
          ? "NOT_FOUND"
          : status >= 500
            ? "INTERNAL_ERROR"
            : "VALIDATION_ERROR";
  return new RequestError(code, `the server answered ${status}`, status);
}

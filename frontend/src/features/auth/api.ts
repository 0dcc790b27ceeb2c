// `/api/auth`: register, log in, log out, who am I.
import type { ApiClient } from "../../lib/api";
import type { AuthSession, User } from "../../lib/apiTypes";

export interface Registration {
  email: string;
  password: string;
  name: string;
}

export interface Credentials {
  email: string;
  password: string;
}

export interface AuthApi {
  register(registration: Registration): Promise<User>;
  login(credentials: Credentials): Promise<User>;
  logout(): Promise<void>;
  me(): Promise<User>;
  /** the user of the session kept from a previous visit, if any */
  keptUser(): User | null;
  onSignedOut(listener: () => void): () => void;
}

export function authApi(client: ApiClient): AuthApi {
  const signIn = async (path: string, body: object): Promise<User> => {
    const session = await client.request<AuthSession>("POST", path, { body, authenticated: false });
    client.setSession(session);
    return session.user;
  };
  return {
    register: (registration) => signIn("/api/auth/register", registration),
    login: (credentials) => signIn("/api/auth/login", credentials),
    async logout() {
      const session = client.session;
      try {
        if (session !== null) {
          await client.request<void>("POST", "/api/auth/logout", { body: { refreshToken: session.refreshToken } });
        }
      } finally {
        // Signed out here even if the server could not be told: the tokens are forgotten.
        client.setSession(null);
      }
    },
    async me() {
      return (await client.request<{ user: User }>("GET", "/api/auth/me")).user;
    },
    keptUser: () => client.session?.user ?? null,
    onSignedOut: (listener) =>
      client.onSessionChange((session) => {
        if (session === null) listener();
      }),
  };
}

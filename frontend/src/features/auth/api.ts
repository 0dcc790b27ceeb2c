// `/api/auth`: register, log in, log out, who am I.
import type { AuthSession, Login, Logout, Register, UserOut, UserReply } from "@proto/messages";
import type { ApiClient } from "../../lib/api";

export interface AuthApi {
  register(registration: Register): Promise<UserOut>;
  login(credentials: Login): Promise<UserOut>;
  logout(): Promise<void>;
  me(): Promise<UserOut>;
  /** the user of the session kept from a previous visit, if any */
  keptUser(): UserOut | null;
  onSignedOut(listener: () => void): () => void;
}

export function authApi(client: ApiClient): AuthApi {
  const signIn = async (path: string, body: Register | Login): Promise<UserOut> => {
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
          const body: Logout = { refreshToken: session.refreshToken };
          await client.request<void>("POST", "/api/auth/logout", { body });
        }
      } finally {
        // Signed out here even if the server could not be told: the tokens are forgotten.
        client.setSession(null);
      }
    },
    async me() {
      return (await client.request<UserReply>("GET", "/api/auth/me")).user;
    },
    keptUser: () => client.session?.user ?? null,
    onSignedOut: (listener) =>
      client.onSessionChange((session) => {
        if (session === null) listener();
      }),
  };
}

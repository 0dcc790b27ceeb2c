// The auth part of the store: who is signed in.
import type { Login, Register, UserOut } from "@proto/messages";
import type { SliceCreator } from "../../lib/slice";
import type { AuthApi } from "./api";

export interface AuthSlice {
  user: UserOut | null;
  signUp(registration: Register): Promise<void>;
  signIn(credentials: Login): Promise<void>;
  signOut(): Promise<void>;
  /** The session ended elsewhere (refresh refused, logout in another tab). */
  signedOut(): void;
}

export function createAuthSlice(api: AuthApi): SliceCreator<AuthSlice> {
  return (set) => ({
    user: api.keptUser(),
    async signUp(registration) {
      set({ user: await api.register(registration) });
    },
    async signIn(credentials) {
      set({ user: await api.login(credentials) });
    },
    async signOut() {
      try {
        await api.logout();
      } finally {
        set({ user: null });
      }
    },
    signedOut() {
      set({ user: null });
    },
  });
}

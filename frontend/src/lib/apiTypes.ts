// The JSON bodies of the gateway's HTTP API (ARCHITECTURE §6b) that proto/ does not carry yet.
//
// These mirror makefx_gateway.http.models (UserOut, AuthSession, SpaceOut, MemberOut).
// They live here only until those models move to libs/contracts and `make proto`
// emits them; then this file becomes re-exports from "@proto/messages".
import type { ErrorCode, Role } from "@proto/messages";

/** ISO 8601 date-time, as the gateway writes it. */
export type Timestamp = string;

export interface User {
  id: string;
  email: string;
  name: string;
  createdAt: Timestamp;
}

export interface AuthSession {
  user: User;
  accessToken: string;
  refreshToken: string;
  expiresAt: Timestamp;
}

export interface Space {
  id: string;
  name: string;
  /** the caller's role in this space */
  role: Role;
  createdBy: string;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/** `{"error": {code, message, details}}`, the body of every failed request. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

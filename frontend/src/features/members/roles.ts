// The roles a member can have, in the order of what they may do.
import type { Role } from "@proto/messages";

export const ROLES: readonly Role[] = ["owner", "editor", "viewer"];

export const ROLE_HELP: Record<Role, string> = {
  owner: "manages members, deletes assets and the space",
  editor: "creates, moves and changes assets",
  viewer: "sees everything, changes nothing",
};

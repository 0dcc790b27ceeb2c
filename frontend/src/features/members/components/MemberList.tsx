import type { MemberOut, Role } from "@proto/messages";
import { useSubmit } from "../../../hooks/useSubmit";
import { ROLES } from "../roles";

interface MemberListProps {
  members: readonly MemberOut[];
  /** only owners change roles and remove members */
  canManage: boolean;
  currentUserId: string | null;
  onChangeRole: (userId: string, role: Role) => Promise<void>;
  onRemove: (userId: string) => Promise<void>;
}

export function MemberList({ members, canManage, currentUserId, onChangeRole, onRemove }: MemberListProps) {
  return (
    <table className="member-list" aria-label="Members">
      <thead>
        <tr>
          <th>Name</th>
          <th>Email</th>
          <th>Role</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {members.map((member) => (
          <MemberRow
            key={member.userId}
            member={member}
            canManage={canManage}
            isMe={member.userId === currentUserId}
            onChangeRole={onChangeRole}
            onRemove={onRemove}
          />
        ))}
      </tbody>
    </table>
  );
}

function MemberRow({
  member,
  canManage,
  isMe,
  onChangeRole,
  onRemove,
}: { member: MemberOut; isMe: boolean } & Omit<MemberListProps, "members" | "currentUserId">) {
  const change = useSubmit((role: Role) => onChangeRole(member.userId, role));
  const remove = useSubmit(() => onRemove(member.userId));
  const error = change.error ?? remove.error;
  return (
    <tr data-user-id={member.userId}>
      <td>
        {member.name}
        {isMe && " (you)"}
      </td>
      <td>{member.email}</td>
      <td>
        <select
          aria-label={`Role of ${member.name}`}
          value={member.role}
          disabled={!canManage || change.busy}
          onChange={(e) => void change.submit(e.target.value as Role)}
        >
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {role}
            </option>
          ))}
        </select>
        {error !== null && (
          <span className="form-error" role="alert">
            {error}
          </span>
        )}
      </td>
      <td>
        <button
          type="button"
          className="danger"
          disabled={!canManage || remove.busy}
          onClick={() => void remove.submit()}
          aria-label={`Remove ${member.name}`}
        >
          Remove
        </button>
      </td>
    </tr>
  );
}

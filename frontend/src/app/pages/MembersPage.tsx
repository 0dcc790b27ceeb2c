import { useShallow } from "zustand/react/shallow";
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { AddMemberForm } from "../../features/members/components/AddMemberForm";
import { MemberList } from "../../features/members/components/MemberList";
import { describeError } from "../../lib/errors";
import { useApp } from "../AppContext";

const NO_MEMBERS: never[] = [];

export function MembersPage() {
  const { spaceId = "" } = useParams();
  const space = useApp((state) => state.spaces[spaceId]);
  const members = useApp((state) => state.members[spaceId] ?? NO_MEMBERS);
  const user = useApp((state) => state.user);
  const { loadSpace, loadMembers, addMember, changeRole, removeMember } = useApp(
    useShallow((state) => ({
      loadSpace: state.loadSpace,
      loadMembers: state.loadMembers,
      addMember: state.addMember,
      changeRole: state.changeRole,
      removeMember: state.removeMember,
    })),
  );
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([loadSpace(spaceId), loadMembers(spaceId)]).catch((caught: unknown) => setError(describeError(caught)));
  }, [spaceId, loadSpace, loadMembers]);

  const isOwner = space?.role === "owner";
  return (
    <main className="members-page">
      <p>
        <Link to={`/spaces/${spaceId}`}>← back to {space?.name ?? "the space"}</Link>
      </p>
      <h1>Members of {space?.name ?? "…"}</h1>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {!isOwner && space !== undefined && <p className="hint">Only the owner of this space can change its members.</p>}
      <AddMemberForm disabled={!isOwner} onAdd={(email, role) => addMember(spaceId, email, role)} />
      <MemberList
        members={members}
        canManage={isOwner}
        currentUserId={user?.id ?? null}
        onChangeRole={(userId, role) => changeRole(spaceId, userId, role)}
        onRemove={(userId) => removeMember(spaceId, userId)}
      />
    </main>
  );
}

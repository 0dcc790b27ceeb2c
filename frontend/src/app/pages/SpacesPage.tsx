import { useShallow } from "zustand/react/shallow";
import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";
import { CreateSpaceForm } from "../../features/spaces/components/CreateSpaceForm";
import { SpaceList } from "../../features/spaces/components/SpaceList";
import { sortedSpaces } from "../../features/spaces/spacesSlice";
import { describeError } from "../../lib/errors";
import { useApp } from "../AppContext";

export function SpacesPage() {
  const spaces = useApp((state) => state.spaces);
  const loaded = useApp((state) => state.spacesLoaded);
  const { loadSpaces, createSpace, renameSpace, deleteSpace } = useApp(
    useShallow((state) => ({
      loadSpaces: state.loadSpaces,
      createSpace: state.createSpace,
      renameSpace: state.renameSpace,
      deleteSpace: state.deleteSpace,
    })),
  );
  const [error, setError] = useState<string | null>(null);
  const navigate = useNavigate();

  useEffect(() => {
    loadSpaces().catch((caught: unknown) => setError(describeError(caught)));
  }, [loadSpaces]);

  const list = useMemo(() => sortedSpaces(spaces), [spaces]);
  return (
    <main className="spaces-page">
      <h1>My spaces</h1>
      <CreateSpaceForm
        onCreate={async (name) => {
          const space = await createSpace(name);
          void navigate(`/spaces/${space.id}`);
        }}
      />
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {loaded ? (
        <SpaceList
          spaces={list}
          linkTo={(space) => <Link to={`/spaces/${space.id}`}>{space.name}</Link>}
          onRename={renameSpace}
          onDelete={deleteSpace}
        />
      ) : (
        error === null && <p className="empty">Loading…</p>
      )}
    </main>
  );
}

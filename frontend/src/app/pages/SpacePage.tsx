import type { Position } from "@proto/messages";
import { useEffect, useMemo, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { useShallow } from "zustand/react/shallow";
import { AssetDetails } from "../../features/assets/components/AssetDetails";
import { lineageOf, variantsOf } from "../../features/assets/lineage";
import { Canvas } from "../../features/canvas/components/Canvas";
import { CanvasToolbar } from "../../features/canvas/components/CanvasToolbar";
import { ConnectionBadge } from "../../features/canvas/components/ConnectionBadge";
import { NewAssetForm } from "../../features/canvas/components/NewAssetForm";
import { PresenceBar } from "../../features/canvas/components/PresenceBar";
import { allTags, matchesFilters } from "../../features/canvas/filters";
import { nextFreePosition } from "../../features/canvas/layout";
import { shownVariant } from "../../features/canvas/components/Canvas";
import { tagsOf } from "../../features/canvas/replica";
import { ChatPanel } from "../../features/chat/components/ChatPanel";
import { approvalsOf, linesOf } from "../../features/chat/conversation";
import { GenerateForm, type ReferenceChoice } from "../../features/generation/components/GenerateForm";
import { DropZone } from "../../features/upload/components/DropZone";
import { UploadButton } from "../../features/upload/components/UploadButton";
import { UploadList } from "../../features/upload/components/UploadList";
import { describeError } from "../../lib/errors";
import { useApp } from "../AppContext";
import { PanelToggles } from "../PanelToggles";
import { usePanels } from "../usePanels";
import { useSpaceConnection } from "../useSpaceConnection";

export function SpacePage() {
  const { spaceId = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const selectedId = params.get("asset");
  const space = useApp((state) => state.spaces[spaceId]);
  const loadSpace = useApp((state) => state.loadSpace);
  const [loadError, setLoadError] = useState<string | null>(null);
  const commands = useSpaceConnection(spaceId);
  // A copy of another space may still be in the store for a moment: never show it here.
  const replica = useApp((state) => (state.space?.spaceId === spaceId ? state.space : null));
  const { connection, connectionProblem, filters, moves, previewed } = useApp(
    useShallow((state) => ({
      connection: state.connection,
      connectionProblem: state.connectionProblem,
      filters: state.filters,
      moves: state.moves,
      previewed: state.previewed,
    })),
  );
  const { setFilters, previewVariant } = useApp(
    useShallow((state) => ({ setFilters: state.setFilters, previewVariant: state.previewVariant })),
  );
  const { models, modelsError, loadModels, progress, uploads, uploadFile, dismissUpload } = useApp(
    useShallow((state) => ({
      models: state.models,
      modelsError: state.modelsError,
      loadModels: state.loadModels,
      progress: state.progress,
      uploads: state.uploads,
      uploadFile: state.uploadFile,
      dismissUpload: state.dismissUpload,
    })),
  );
  const chat = useApp(
    useShallow((state) => ({
      conversation: state.chatSpaceId === spaceId ? state.conversation : null,
      loaded: state.chatLoaded,
      mode: state.chatMode,
      error: state.chatError,
      setMode: state.setChatMode,
      setError: state.setChatError,
    })),
  );
  const [generating, setGenerating] = useState(false);
  const { panels, setPanel } = usePanels();

  useEffect(() => {
    loadSpace(spaceId).catch((caught: unknown) => setLoadError(describeError(caught)));
  }, [spaceId, loadSpace]);

  useEffect(() => {
    if (connection === "open") commands?.viewing(selectedId);
  }, [commands, connection, selectedId]);

  // On every (re)connect: events missed while away may have been folded into a full sync.
  useEffect(() => {
    if (connection === "open") void commands?.loadChat();
  }, [commands, connection]);

  useEffect(() => {
    if (generating) void loadModels();
  }, [generating, loadModels]);

  const lines = useMemo(() => (chat.conversation === null ? [] : linesOf(chat.conversation)), [chat.conversation]);
  const approvals = useMemo(
    () => (chat.conversation === null ? [] : approvalsOf(chat.conversation)),
    [chat.conversation],
  );

  const assets = useMemo(
    () => Object.values(replica?.assets ?? {}).sort((a, b) => a.created_at - b.created_at),
    [replica?.assets],
  );
  const shown = useMemo(() => assets.filter((asset) => matchesFilters(asset, filters)), [assets, filters]);
  const tags = useMemo(() => allTags(assets), [assets]);
  const selected = selectedId === null ? undefined : replica?.assets[selectedId];
  const references = useMemo((): ReferenceChoice[] => {
    const variants = replica?.variants ?? {};
    return assets.flatMap((asset) => {
      const variant = shownVariant(asset, variants);
      return variant?.status === "completed" ? [{ assetId: asset.id, name: asset.name, variantId: variant.id }] : [];
    });
  }, [assets, replica?.variants]);
  const progressOf = (variantId: string) => progress[variantId]?.progress ?? null;
  const cdnBaseUrl = replica?.mediaCdnBaseUrl ?? null;

  // A space that refused us (we were removed) leaves us nothing to change, whatever role we had.
  const role = connection === "refused" ? undefined : space?.role;
  const permissions = { canEdit: role === "owner" || role === "editor", isOwner: role === "owner" };
  const canChange = permissions.canEdit && commands !== null;
  const upload = (files: File[], at?: Position) => {
    let position = at ?? nextFreePosition(assets);
    for (const file of files) {
      void uploadFile(spaceId, file, position);
      position = { x: position.x + 24, y: position.y + 24 };
    }
  };
  const select = (assetId: string | null) =>
    setParams((current) => {
      const next = new URLSearchParams(current);
      if (assetId === null) next.delete("asset");
      else next.set("asset", assetId);
      return next;
    });

  if (loadError !== null) {
    return (
      <main className="space-page">
        <p className="form-error" role="alert">
          {loadError}
        </p>
        <Link to="/spaces">Back to my spaces</Link>
      </main>
    );
  }

  return (
    <main className="space-page" data-role={role ?? "unknown"}>
      <header className="space-header">
        <Link to="/spaces" className="back">
          ← Spaces
        </Link>
        <h1>{space?.name ?? "…"}</h1>
        {role !== undefined && <span className={`role role-${role}`}>{role}</span>}
        <ConnectionBadge status={connection} problem={connectionProblem} />
        <PresenceBar presence={replica?.presence ?? []} assetName={(id) => replica?.assets[id]?.name ?? null} />
        <Link to={`/spaces/${spaceId}/members`}>Members</Link>
      </header>
      <div className="space-tools">
        <NewAssetForm
          disabled={!permissions.canEdit || commands === null}
          onCreate={async (asset) => {
            if (commands === null) return;
            await commands.createAsset(asset, nextFreePosition(assets));
          }}
        />
        {permissions.canEdit && (
          <div className="create-tools">
            <button type="button" aria-expanded={generating} onClick={() => setGenerating(!generating)}>
              Generate…
            </button>
            <UploadButton disabled={!canChange} onFiles={(files) => upload(files)} />
          </div>
        )}
        <CanvasToolbar filters={filters} tags={tags} shown={shown.length} total={assets.length} onChange={setFilters} />
        <PanelToggles panels={panels} unavailable={selected === undefined ? ["details"] : []} onToggle={setPanel} />
      </div>
      <UploadList uploads={uploads} onDismiss={dismissUpload} />
      {/* The Generate form takes room from the canvas: the panels on the right may stack to give it back. */}
      <div className={generating && canChange ? "space-body with-generate" : "space-body"}>
        {generating && canChange && (
          <GenerateForm
            models={models}
            modelsError={modelsError}
            references={references}
            initialReferences={selected === undefined ? [] : [selected.id]}
            onGenerate={(order) => commands.generate(order, nextFreePosition(assets))}
            onClose={() => setGenerating(false)}
          />
        )}
        {replica?.seq == null ? (
          <div className="canvas loading">
            <p>
              Loading the space…
              {connectionProblem !== null && (
                <>
                  <br />
                  <span className="hint">{connectionProblem}</span>
                </>
              )}
            </p>
          </div>
        ) : (
          <DropZone enabled={canChange} onFiles={upload}>
            <Canvas
              spaceId={spaceId}
              assets={shown}
              variants={replica.variants}
              moves={moves}
              selectedAssetId={selectedId}
              canEdit={permissions.canEdit && commands !== null}
              onOpen={(assetId) => {
                // Opening a card asks for its details, even if the panel was hidden.
                select(assetId);
                setPanel("details", true);
              }}
              onMove={(assetId: string, position: Position) => commands?.moveAsset(assetId, position)}
              progressOf={progressOf}
              cdnBaseUrl={cdnBaseUrl}
            />
          </DropZone>
        )}
        <div className="side-panels">
          {panels.details && selected !== undefined && replica !== null && commands !== null && (
            <AssetDetails
              key={selected.id}
              spaceId={spaceId}
              asset={selected}
              tags={tagsOf(selected)}
              variants={variantsOf(selected.id, replica.variants)}
              lineage={lineageOf(selected.id, replica)}
              previewedId={previewed[selected.id] ?? null}
              permissions={permissions}
              actions={commands.assetActions(selected.id)}
              linkTo={(assetId, label) => (
                <Link to={{ search: `?asset=${encodeURIComponent(assetId)}` }} className="lineage-asset">
                  {label}
                </Link>
              )}
              onPreview={(variantId) => previewVariant(selected.id, variantId)}
              onClose={() => select(null)}
              progressOf={progressOf}
              cdnBaseUrl={cdnBaseUrl}
            />
          )}
          {panels.chat && commands !== null && (
            <ChatPanel
              lines={lines}
              approvals={approvals}
              loaded={chat.loaded}
              mode={chat.mode}
              error={chat.error}
              canEdit={permissions.canEdit}
              actions={commands.chatActions}
              onModeChange={chat.setMode}
              onDismissError={() => chat.setError(null)}
            />
          )}
        </div>
      </div>
    </main>
  );
}

import { type DragEvent, type ReactNode, useState } from "react";

function carriesFiles(event: DragEvent): boolean {
  return [...event.dataTransfer.types].includes("Files");
}

/** Takes files dropped anywhere on what it wraps (the canvas); shows that it will while they hover. */
export function DropZone({
  enabled,
  onFiles,
  children,
}: {
  enabled: boolean;
  onFiles: (files: File[], at: { x: number; y: number }) => void;
  children: ReactNode;
}) {
  const [hovering, setHovering] = useState(false);
  if (!enabled) return <div className="drop-zone">{children}</div>;
  return (
    <div
      className={`drop-zone${hovering ? " hovering" : ""}`}
      data-testid="drop-zone"
      onDragOver={(event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        setHovering(true);
      }}
      onDragLeave={() => setHovering(false)}
      onDrop={(event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        setHovering(false);
        const bounds = event.currentTarget.getBoundingClientRect();
        const scroller = event.currentTarget.querySelector(".canvas");
        const at = {
          x: Math.max(0, event.clientX - bounds.left + (scroller?.scrollLeft ?? 0)),
          y: Math.max(0, event.clientY - bounds.top + (scroller?.scrollTop ?? 0)),
        };
        const files = [...event.dataTransfer.files];
        if (files.length > 0) onFiles(files, at);
      }}
    >
      {children}
      {hovering && <div className="drop-hint">Drop images, audio or video to upload them</div>}
    </div>
  );
}

// Drag a card with the pointer: it follows the pointer, and the drop reports the new position.
import type { Position } from "@proto/messages";
import { type PointerEvent, useRef, useState } from "react";

/** Pointer travel (px) below which a press is a click, not a drag. */
const DRAG_THRESHOLD = 4;

interface Drag {
  pointerId: number;
  startX: number;
  startY: number;
  dx: number;
  dy: number;
  moved: boolean;
}

export function useCardDrag(position: Position, enabled: boolean, onDrop: (position: Position) => void) {
  const [drag, setDrag] = useState<Drag | null>(null);
  /** set when a drag ends, so the click that follows does not also open the card */
  const justDragged = useRef(false);

  const onPointerDown = (event: PointerEvent<HTMLElement>) => {
    if (!enabled || event.button !== 0) return;
    event.currentTarget.setPointerCapture?.(event.pointerId);
    setDrag({ pointerId: event.pointerId, startX: event.clientX, startY: event.clientY, dx: 0, dy: 0, moved: false });
  };
  const onPointerMove = (event: PointerEvent<HTMLElement>) => {
    if (drag === null || event.pointerId !== drag.pointerId) return;
    const dx = event.clientX - drag.startX;
    const dy = event.clientY - drag.startY;
    setDrag({ ...drag, dx, dy, moved: drag.moved || Math.hypot(dx, dy) >= DRAG_THRESHOLD });
  };
  const onPointerUp = (event: PointerEvent<HTMLElement>) => {
    if (drag === null || event.pointerId !== drag.pointerId) return;
    setDrag(null);
    if (!drag.moved) return;
    justDragged.current = true;
    onDrop({ x: Math.max(0, Math.round(position.x + drag.dx)), y: Math.max(0, Math.round(position.y + drag.dy)) });
  };
  const onPointerCancel = () => setDrag(null);

  const shown = drag?.moved ? { x: position.x + drag.dx, y: position.y + drag.dy } : position;
  const consumeClick = () => {
    const was = justDragged.current;
    justDragged.current = false;
    return was;
  };
  return {
    position: shown,
    dragging: drag?.moved ?? false,
    handlers: { onPointerDown, onPointerMove, onPointerUp, onPointerCancel },
    consumeClick,
  };
}

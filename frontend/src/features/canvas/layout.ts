// Where a new card goes: the first free cell of a grid, left to right, top to bottom.
import type { AssetRow, Position } from "@proto/messages";

export const CARD_WIDTH = 180;
export const CARD_HEIGHT = 200;
const GAP = 24;
const COLUMNS = 6;

export function nextFreePosition(assets: Iterable<AssetRow>): Position {
  const taken = [...assets].map((asset) => ({ x: asset.position_x ?? 0, y: asset.position_y ?? 0 }));
  const overlaps = (cell: Position) =>
    taken.some((p) => Math.abs(p.x - cell.x) < CARD_WIDTH && Math.abs(p.y - cell.y) < CARD_HEIGHT);
  for (let index = 0; ; index++) {
    const cell = {
      x: GAP + (index % COLUMNS) * (CARD_WIDTH + GAP),
      y: GAP + Math.floor(index / COLUMNS) * (CARD_HEIGHT + GAP),
    };
    if (!overlaps(cell)) return cell;
  }
}

import type { PresenceEntry } from "@proto/messages";

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return (parts.length > 1 ? `${parts[0]?.[0] ?? ""}${parts.at(-1)?.[0] ?? ""}` : name.slice(0, 2)).toUpperCase();
}

/** Who is in the space now, and what each is looking at. */
export function PresenceBar({
  presence,
  assetName,
}: {
  presence: readonly PresenceEntry[];
  assetName: (assetId: string) => string | null;
}) {
  return (
    <ul className="presence" aria-label="Who is here">
      {presence.map((entry) => {
        const viewing = entry.viewing == null ? null : assetName(entry.viewing);
        const label = viewing === null ? entry.name : `${entry.name}, looking at ${viewing}`;
        return (
          <li key={entry.userId} className="avatar" title={label} aria-label={label} data-user-id={entry.userId}>
            {initials(entry.name)}
          </li>
        );
      })}
    </ul>
  );
}

import type { ReactNode } from "react";
import { useSubmit } from "../../../hooks/useSubmit";
import type { AssetLineage, LineageLink } from "../lineage";

interface LineageGraphProps {
  assetName: string;
  lineage: AssetLineage;
  canEdit: boolean;
  /** how a linked asset's name leads to it (the app's router decides) */
  linkTo: (assetId: string, label: string) => ReactNode;
  onSever: (lineageId: string) => Promise<void>;
}

/** Where this asset came from, above it, and what was made from it, below: each name leads there. */
export function LineageGraph({ assetName, lineage, canEdit, linkTo, onSever }: LineageGraphProps) {
  if (lineage.parents.length === 0 && lineage.children.length === 0) {
    return <p className="empty">No lineage: this asset was made from nothing else, and nothing from it yet.</p>;
  }
  return (
    <div className="lineage-graph" aria-label="Lineage">
      <LinkColumn
        title="Made from"
        links={lineage.parents}
        arrow="↓"
        canEdit={canEdit}
        linkTo={linkTo}
        onSever={onSever}
      />
      <div className="lineage-self">{assetName}</div>
      <LinkColumn
        title="Led to"
        links={lineage.children}
        arrow="↑"
        canEdit={canEdit}
        linkTo={linkTo}
        onSever={onSever}
      />
    </div>
  );
}

function LinkColumn({
  title,
  links,
  arrow,
  canEdit,
  linkTo,
  onSever,
}: { title: string; links: LineageLink[]; arrow: string } & Pick<LineageGraphProps, "canEdit" | "linkTo" | "onSever">) {
  if (links.length === 0) return null;
  return (
    <section className="lineage-column">
      <h4>{title}</h4>
      <ul>
        {links.map((link) => (
          <LinkRow
            key={`${link.lineageId}-${link.variantId}`}
            link={link}
            arrow={arrow}
            canEdit={canEdit}
            linkTo={linkTo}
            onSever={onSever}
          />
        ))}
      </ul>
    </section>
  );
}

function LinkRow({
  link,
  arrow,
  canEdit,
  linkTo,
  onSever,
}: { link: LineageLink; arrow: string } & Pick<LineageGraphProps, "canEdit" | "linkTo" | "onSever">) {
  const sever = useSubmit(() => onSever(link.lineageId));
  return (
    <li
      className={`lineage-link relation-${link.relation}${link.severed ? " severed" : ""}`}
      data-relation={link.relation}
    >
      <span className="relation">
        {link.relation} {arrow}
      </span>{" "}
      {link.assetId !== null ? linkTo(link.assetId, link.assetName ?? link.assetId) : <em>a deleted asset</em>}
      {link.severed ? (
        <span className="badge">severed</span>
      ) : (
        <button
          type="button"
          className="link-button"
          disabled={!canEdit || sever.busy}
          onClick={() => void sever.submit()}
        >
          sever
        </button>
      )}
      {sever.error !== null && <span className="form-error">{sever.error}</span>}
    </li>
  );
}

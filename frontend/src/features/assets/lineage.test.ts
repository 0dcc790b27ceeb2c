import { describe, expect, it } from "vitest";
import { assetRow, lineageRow, variantRow } from "../../test/rows";
import { lineageOf, variantsOf } from "./lineage";

const space = {
  assets: {
    hero: assetRow("hero", { name: "Hero" }),
    scene: assetRow("scene", { name: "Scene" }),
    copy: assetRow("copy", { name: "Copy" }),
  },
  variants: {
    h1: variantRow("h1", "hero", { created_at: 1 }),
    h2: variantRow("h2", "hero", { created_at: 2 }),
    s1: variantRow("s1", "scene", { created_at: 3 }),
    c1: variantRow("c1", "copy", { created_at: 4 }),
  },
  lineage: {
    derived: lineageRow("derived", "h2", "s1", { relation_type: "derived", created_at: 5 }),
    refined: lineageRow("refined", "h1", "h2", { relation_type: "refined", created_at: 6 }),
    forked: lineageRow("forked", "h2", "c1", { relation_type: "forked", severed: 1, created_at: 7 }),
    orphan: lineageRow("orphan", "gone", "h1", { relation_type: "derived", created_at: 8 }),
  },
};

describe("lineageOf", () => {
  it("lists what an asset was made from and what was made from it, across assets", () => {
    const hero = lineageOf("hero", space);
    expect(hero.children.map((link) => [link.relation, link.assetName, link.severed])).toEqual([
      ["derived", "Scene", false],
      ["forked", "Copy", true],
    ]);
    expect(hero.parents).toEqual([
      expect.objectContaining({ relation: "derived", variantId: "gone", assetId: null, assetName: null }),
    ]);
  });

  it("leads back from a derived asset to its source", () => {
    expect(lineageOf("scene", space).parents).toEqual([
      expect.objectContaining({ relation: "derived", assetId: "hero", assetName: "Hero", ownVariantId: "s1" }),
    ]);
  });

  it("leaves out refinements inside the same asset", () => {
    const ids = [...lineageOf("hero", space).parents, ...lineageOf("hero", space).children].map((l) => l.lineageId);
    expect(ids).not.toContain("refined");
  });
});

describe("variantsOf", () => {
  it("gives the asset's variants, newest first", () => {
    expect(variantsOf("hero", space.variants).map((v) => v.id)).toEqual(["h2", "h1"]);
  });
});

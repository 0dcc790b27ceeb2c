// What a person can do from an asset's details; the app carries each out over the space's socket.

export interface AssetActions {
  rename(name: string): Promise<void>;
  setTags(tags: string[]): Promise<void>;
  deleteAsset(): Promise<void>;
  setActive(variantId: string): Promise<void>;
  star(variantId: string, starred: boolean): Promise<void>;
  fork(variantId: string, name: string, assetType: string): Promise<void>;
  deleteVariant(variantId: string): Promise<void>;
  sever(lineageId: string): Promise<void>;
  /** a failed variant tries again (a new attempt of the same recipe) */
  retry(variantId: string): Promise<void>;
  /** a new variant of this asset, made from `variantId` with a new prompt */
  refine(variantId: string, prompt: string): Promise<void>;
}

export interface Permissions {
  /** editors and owners change assets */
  canEdit: boolean;
  /** only owners delete assets and variants */
  isOwner: boolean;
}

// The shape of a store slice: each feature's slice sees only its own part of the one store.

export type SliceSet<S> = (update: Partial<S> | ((state: S) => Partial<S>)) => void;
export type SliceGet<S> = () => S;
export type SliceCreator<S> = (set: SliceSet<S>, get: SliceGet<S>) => S;

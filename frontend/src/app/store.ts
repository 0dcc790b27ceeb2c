// The one store of the app, built from each feature's slice.
import { type StoreApi, createStore } from "zustand/vanilla";
import { type AssetsSlice, createAssetsSlice } from "../features/assets/assetsSlice";
import { authApi } from "../features/auth/api";
import { type AuthSlice, createAuthSlice } from "../features/auth/authSlice";
import { type CanvasSlice, createCanvasSlice } from "../features/canvas/canvasSlice";
import { type ChatSlice, createChatSlice } from "../features/chat/chatSlice";
import { generationApi } from "../features/generation/api";
import { type GenerationSlice, createGenerationSlice } from "../features/generation/generationSlice";
import { membersApi } from "../features/members/api";
import { type MembersSlice, createMembersSlice } from "../features/members/membersSlice";
import { spacesApi } from "../features/spaces/api";
import { type SpacesSlice, createSpacesSlice } from "../features/spaces/spacesSlice";
import { uploadApi } from "../features/upload/api";
import { type UploadSlice, createUploadSlice } from "../features/upload/uploadSlice";
import type { ApiClient } from "../lib/api";
import { type NoticesSlice, createNoticesSlice } from "./notices";

export type AppState = AuthSlice &
  SpacesSlice &
  MembersSlice &
  CanvasSlice &
  AssetsSlice &
  GenerationSlice &
  UploadSlice &
  ChatSlice &
  NoticesSlice;
export type AppStore = StoreApi<AppState>;

export function createAppStore(client: ApiClient): AppStore {
  const auth = authApi(client);
  const store = createStore<AppState>()((set, get) => ({
    ...createAuthSlice(auth)(set, get),
    ...createSpacesSlice(spacesApi(client))(set, get),
    ...createMembersSlice(membersApi(client))(set, get),
    ...createCanvasSlice(set, get),
    ...createAssetsSlice(set, get),
    ...createGenerationSlice(generationApi(client))(set, get),
    ...createUploadSlice(uploadApi(client))(set, get),
    ...createChatSlice(set, get),
    ...createNoticesSlice(set, get),
  }));
  // Signed out anywhere (a refused refresh, a logout): forget what this user could see.
  auth.onSignedOut(() => {
    const state = store.getState();
    state.signedOut();
    state.forgetSpaces();
    state.closeSpace();
  });
  return store;
}

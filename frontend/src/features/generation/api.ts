// `GET /api/models`: the generation models and their parameters.
import type { ModelInfo, ModelList } from "@proto/messages";
import type { ApiClient } from "../../lib/api";

export interface GenerationApi {
  models(): Promise<ModelInfo[]>;
}

export function generationApi(client: ApiClient): GenerationApi {
  return {
    models: async () => (await client.request<ModelList>("GET", "/api/models")).models,
  };
}

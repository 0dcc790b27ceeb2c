// Hands the store and the API client to the components, without a module-level singleton.
import { type ReactNode, createContext, useContext } from "react";
import { useStore } from "zustand";
import type { ApiClient } from "../lib/api";
import type { AppState, AppStore } from "./store";

interface AppServices {
  store: AppStore;
  client: ApiClient;
}

const AppContext = createContext<AppServices | null>(null);

export function AppProvider({ store, client, children }: AppServices & { children: ReactNode }) {
  return <AppContext.Provider value={{ store, client }}>{children}</AppContext.Provider>;
}

export function useServices(): AppServices {
  const services = useContext(AppContext);
  if (services === null) throw new Error("useServices outside <AppProvider>");
  return services;
}

/** Reads from the store; the component re-renders when the selected value changes. */
export function useApp<T>(selector: (state: AppState) => T): T {
  return useStore(useServices().store, selector);
}

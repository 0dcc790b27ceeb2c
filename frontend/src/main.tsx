// The browser entry: builds the API client and the store, then renders the app.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import { AppProvider } from "./app/AppContext";
import { createAppStore } from "./app/store";
import { ApiClient, storageSessionKeeper } from "./lib/api";
import "./styles.css";

const client = new ApiClient({ keeper: storageSessionKeeper(window.localStorage) });
const store = createAppStore(client);
const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root");

createRoot(root).render(
  <StrictMode>
    <AppProvider store={store} client={client}>
      <App />
    </AppProvider>
  </StrictMode>,
);

// The routes of the app and the frame around them.
import type { ReactNode } from "react";
import { BrowserRouter, Link, Navigate, Route, Routes, useLocation, useNavigate } from "react-router";
import { useApp } from "./AppContext";
import { Notices } from "./Notices";
import { MembersPage } from "./pages/MembersPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { SignInPage, SignUpPage } from "./pages/SignInPage";
import { SpacePage } from "./pages/SpacePage";
import { SpacesPage } from "./pages/SpacesPage";

export function App() {
  return (
    <BrowserRouter>
      <Shell>
        <Routes>
          <Route path="/" element={<Navigate to="/spaces" replace />} />
          <Route
            path="/login"
            element={
              <SignedOutOnly>
                <SignInPage />
              </SignedOutOnly>
            }
          />
          <Route
            path="/signup"
            element={
              <SignedOutOnly>
                <SignUpPage />
              </SignedOutOnly>
            }
          />
          <Route
            path="/spaces"
            element={
              <SignedInOnly>
                <SpacesPage />
              </SignedInOnly>
            }
          />
          <Route
            path="/spaces/:spaceId"
            element={
              <SignedInOnly>
                <SpacePage />
              </SignedInOnly>
            }
          />
          <Route
            path="/spaces/:spaceId/members"
            element={
              <SignedInOnly>
                <MembersPage />
              </SignedInOnly>
            }
          />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </Shell>
    </BrowserRouter>
  );
}

function Shell({ children }: { children: ReactNode }) {
  const user = useApp((state) => state.user);
  const signOut = useApp((state) => state.signOut);
  const navigate = useNavigate();
  return (
    <div className="app">
      <nav className="topbar">
        <Link to="/spaces" className="brand">
          Make Effects
        </Link>
        {user !== null && (
          <span className="who">
            <span data-testid="user-name">{user.name}</span>
            <button
              type="button"
              onClick={() => {
                void signOut().finally(() => navigate("/login"));
              }}
            >
              Log out
            </button>
          </span>
        )}
      </nav>
      {children}
      <Notices />
    </div>
  );
}

function SignedInOnly({ children }: { children: ReactNode }) {
  const user = useApp((state) => state.user);
  const location = useLocation();
  if (user === null) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  return children;
}

function SignedOutOnly({ children }: { children: ReactNode }) {
  const user = useApp((state) => state.user);
  return user === null ? children : <Navigate to="/spaces" replace />;
}

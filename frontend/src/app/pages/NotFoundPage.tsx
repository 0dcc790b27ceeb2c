import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <main className="not-found">
      <h1>Nothing here</h1>
      <Link to="/spaces">Go to my spaces</Link>
    </main>
  );
}

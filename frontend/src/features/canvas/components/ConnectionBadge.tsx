import type { ConnectionStatus } from "../../../lib/socket";

const LABELS: Record<ConnectionStatus, string> = {
  connecting: "connecting…",
  open: "live",
  reconnecting: "reconnecting…",
  refused: "no access",
  closed: "offline",
};

export function ConnectionBadge({ status, problem }: { status: ConnectionStatus; problem: string | null }) {
  return (
    <span
      className={`connection connection-${status}`}
      data-testid="connection"
      data-status={status}
      role="status"
      title={problem ?? undefined}
    >
      {LABELS[status]}
    </span>
  );
}

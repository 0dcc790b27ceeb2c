import type { ApprovalRow } from "@proto/messages";
import { useSubmit } from "../../../hooks/useSubmit";
import type { ChatActions } from "./ChatPanel";

/** The proposal in a few words: the tool and its most telling inputs. */
function summaryOf(approval: ApprovalRow): string {
  try {
    const input = JSON.parse(approval.tool_input) as Record<string, unknown>;
    const parts = ["name", "mediaKind", "prompt"]
      .filter((key) => typeof input[key] === "string" && input[key] !== "")
      .map((key) => `${key}: ${String(input[key])}`);
    return parts.length > 0 ? parts.join(" · ") : approval.tool_input;
  } catch {
    return approval.tool_input;
  }
}

/** A change the assistant proposed: editors approve or reject it; everyone sees what became of it. */
export function ApprovalCard({
  approval,
  canDecide,
  actions,
}: {
  approval: ApprovalRow;
  canDecide: boolean;
  actions: Pick<ChatActions, "approve" | "reject">;
}) {
  const decide = useSubmit((run: () => Promise<void>) => run());
  const status = approval.status ?? "pending";
  return (
    <div
      className={`approval-card status-${status}`}
      data-testid="approval"
      data-approval-id={approval.id}
      data-status={status}
      aria-label={`Proposed ${approval.tool_name}`}
    >
      <div className="approval-head">
        <strong>{approval.tool_name}</strong> <span className={`status status-${status}`}>{status}</span>
      </div>
      <p className="approval-summary">{summaryOf(approval)}</p>
      {approval.error_message != null && <p className="error-text">{approval.error_message}</p>}
      {status === "pending" && canDecide && (
        <div className="approval-actions">
          <button
            type="button"
            disabled={decide.busy}
            onClick={() => void decide.submit(() => actions.approve(approval.id))}
          >
            Approve
          </button>
          <button
            type="button"
            className="danger"
            disabled={decide.busy}
            onClick={() => void decide.submit(() => actions.reject(approval.id))}
          >
            Reject
          </button>
        </div>
      )}
      {decide.error !== null && (
        <p className="form-error" role="alert">
          {decide.error}
        </p>
      )}
    </div>
  );
}

import { useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";

/**
 * Empties the conversation for everyone in the space, after an inline "are you sure":
 * the panel empties when the server's `chat:cleared` arrives, here as in every other window.
 */
export function ClearConversation({ empty, onClear }: { empty: boolean; onClear: () => Promise<void> }) {
  const [confirming, setConfirming] = useState(false);
  const clear = useSubmit(async () => {
    try {
      await onClear();
    } finally {
      setConfirming(false);
    }
  });

  return (
    <div className="chat-clear">
      {confirming ? (
        <div
          className="chat-clear-confirm"
          role="group"
          aria-label="Clear the conversation"
          onKeyDown={(e) => {
            if (e.key === "Escape" && !clear.busy) setConfirming(false);
          }}
        >
          <span>Clear for everyone?</span>
          <button type="button" className="danger" disabled={clear.busy} onClick={() => void clear.submit()}>
            Yes
          </button>
          <button type="button" disabled={clear.busy} autoFocus onClick={() => setConfirming(false)}>
            No
          </button>
        </div>
      ) : (
        <button
          type="button"
          className="link-button"
          disabled={empty || clear.busy}
          onClick={() => setConfirming(true)}
        >
          Clear conversation
        </button>
      )}
      {clear.error !== null && (
        <p className="form-error" role="alert">
          The conversation was not cleared: {clear.error}
        </p>
      )}
    </div>
  );
}

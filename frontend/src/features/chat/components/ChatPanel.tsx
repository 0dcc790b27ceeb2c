import type { ApprovalRow, ChatMode } from "@proto/messages";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";
import type { ChatLine } from "../conversation";
import { ApprovalCard } from "./ApprovalCard";
import { ClearConversation } from "./ClearConversation";

export interface ChatActions {
  send(content: string, mode: ChatMode): Promise<void>;
  approve(approvalId: string): Promise<void>;
  reject(approvalId: string): Promise<void>;
  /** empties the conversation for everyone (`chat:clear`); approvals stay */
  clear(): Promise<void>;
}

interface ChatPanelProps {
  lines: readonly ChatLine[];
  approvals: readonly ApprovalRow[];
  loaded: boolean;
  mode: ChatMode;
  error: string | null;
  /** editors and owners talk to the bot and decide approvals; viewers read */
  canEdit: boolean;
  actions: ChatActions;
  onModeChange: (mode: ChatMode) => void;
  onDismissError: () => void;
}

const ROLE_LABEL = { user: "you", assistant: "assistant", tool: "tool" } as const;

/**
 * The space's conversation with the assistant: advisor answers, actor also proposes changes
 * to approve. Editors and owners may also clear it for everyone.
 */
export function ChatPanel(props: ChatPanelProps) {
  const { lines, approvals, mode, canEdit, actions } = props;
  const [draft, setDraft] = useState("");
  const bottom = useRef<HTMLLIElement>(null);
  const send = useSubmit(async (content: string) => {
    await actions.send(content, mode);
    setDraft("");
  });
  const lastText = lines.length === 0 ? "" : lines[lines.length - 1]?.id + String(lines.length);
  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "nearest" });
  }, [lastText, approvals.length]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (draft.trim() !== "") void send.submit(draft.trim());
  };
  // Approvals are shown beside the message that proposed them, else at the end.
  const byMessage = new Map<string, ApprovalRow[]>();
  const unattached: ApprovalRow[] = [];
  const messageIds = new Set(lines.map((line) => line.id));
  for (const approval of approvals) {
    if (approval.message_id != null && messageIds.has(approval.message_id)) {
      byMessage.set(approval.message_id, [...(byMessage.get(approval.message_id) ?? []), approval]);
    } else {
      unattached.push(approval);
    }
  }
  const card = (approval: ApprovalRow) => (
    <ApprovalCard key={approval.id} approval={approval} canDecide={canEdit} actions={actions} />
  );

  return (
    <section className="chat-panel" aria-label="Chat" data-testid="chat">
      <header>
        <h2>Chat</h2>
        <div className="chat-mode" role="radiogroup" aria-label="Chat mode">
          {(["advisor", "actor"] as const).map((option) => (
            <label key={option} className={`mode-option${option === mode ? " chosen" : ""}`}>
              <input
                type="radio"
                name="chat-mode"
                value={option}
                checked={option === mode}
                onChange={() => props.onModeChange(option)}
              />
              {option}
            </label>
          ))}
        </div>
      </header>
      <p className="hint">
        {mode === "advisor"
          ? "Advisor answers questions about the space."
          : "Actor may propose changes; an editor approves each before it runs."}
      </p>
      <ol className="chat-lines" aria-label="Messages">
        {!props.loaded && lines.length === 0 && <li className="hint">Loading the conversation…</li>}
        {props.loaded && lines.length === 0 && unattached.length === 0 && <li className="hint">No messages yet.</li>}
        {lines.map((line) =>
          line.kind === "message" ? (
            <li
              key={line.id}
              className={`chat-line role-${line.message.role}`}
              data-testid="chat-message"
              data-role={line.message.role}
            >
              <span className="chat-who">{ROLE_LABEL[line.message.role]}</span>
              <span className="chat-text">{line.message.content ?? ""}</span>
              {byMessage.get(line.id)?.map(card)}
            </li>
          ) : (
            <li key={line.id} className="chat-line role-assistant streaming" data-testid="chat-streaming">
              <span className="chat-who">assistant</span>
              <span className="chat-text">{line.text}</span>
              <span className="spinner" aria-hidden="true" />
            </li>
          ),
        )}
        {unattached.length > 0 && <li className="chat-line approvals">{unattached.map(card)}</li>}
        <li ref={bottom} className="chat-end" aria-hidden="true" />
      </ol>
      {props.error !== null && (
        <p className="form-error" role="alert">
          {props.error}{" "}
          <button type="button" className="link-button" onClick={props.onDismissError}>
            dismiss
          </button>
        </p>
      )}
      {canEdit && <ClearConversation empty={lines.length === 0} onClear={actions.clear} />}
      {canEdit ? (
        <form className="chat-form" onSubmit={onSubmit} aria-label="Send a message">
          <textarea
            aria-label="Message"
            rows={2}
            value={draft}
            placeholder={mode === "actor" ? "ask for a change, e.g. generate an image of a red fox" : "ask anything"}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) onSubmit(e);
            }}
          />
          <button type="submit" disabled={send.busy || draft.trim() === ""}>
            Send
          </button>
          {send.error !== null && (
            <span className="form-error" role="alert">
              {send.error}
            </span>
          )}
        </form>
      ) : (
        <p className="hint">Viewers read the conversation; editors talk to the assistant.</p>
      )}
    </section>
  );
}

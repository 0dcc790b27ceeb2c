import { useEffect } from "react";
import { useApp } from "./AppContext";

/** How long a notice stays before it goes by itself. */
const NOTICE_MS = 8_000;

export function Notices() {
  const notices = useApp((state) => state.notices);
  const dismiss = useApp((state) => state.dismiss);
  useEffect(() => {
    if (notices.length === 0) return;
    const first = notices[0];
    const timer = setTimeout(() => first && dismiss(first.id), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notices, dismiss]);
  return (
    <ul className="notices" aria-live="assertive">
      {notices.map((notice) => (
        <li key={notice.id} className={`notice notice-${notice.kind}`} role="alert">
          {notice.text}
          <button type="button" aria-label="Dismiss" onClick={() => dismiss(notice.id)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

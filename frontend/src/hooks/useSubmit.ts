// Runs a form's async action once at a time and keeps its error for the form to show.
import { useCallback, useState } from "react";
import { describeError } from "../lib/errors";

export function useSubmit<A extends unknown[]>(action: (...args: A) => Promise<unknown>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = useCallback(
    async (...args: A) => {
      setBusy(true);
      setError(null);
      try {
        await action(...args);
      } catch (caught) {
        setError(describeError(caught));
      } finally {
        setBusy(false);
      }
    },
    [action],
  );
  return { busy, error, submit };
}

import { useId } from "react";
import type { FieldValues, FormField } from "../schema";

/** What a field is for, under its input, when the schema says (always, for a list). */
function Hint({ field, id }: { field: FormField; id: string }) {
  if (field.hint === undefined) return null;
  return (
    <small className="hint" id={id}>
      {field.hint}
    </small>
  );
}

/** The inputs of a model's parameters, one per property of its schema. */
export function ModelParameters({
  fields,
  values,
  onChange,
}: {
  fields: readonly FormField[];
  values: FieldValues;
  onChange: (name: string, value: string | boolean) => void;
}) {
  const idPrefix = useId();
  if (fields.length === 0) return null;
  return (
    <fieldset className="model-parameters">
      <legend>Parameters</legend>
      {fields.map((field) => {
        const value = values[field.name];
        const hintId = `${idPrefix}-${field.name}-hint`;
        const describedBy = field.hint === undefined ? undefined : hintId;
        if (field.kind === "toggle") {
          return (
            <label key={field.name} className="checkbox">
              <input
                type="checkbox"
                checked={value === true}
                disabled={field.fixed}
                aria-describedby={describedBy}
                onChange={(e) => onChange(field.name, e.target.checked)}
              />
              {field.label}
              <Hint field={field} id={hintId} />
            </label>
          );
        }
        const text = typeof value === "string" ? value : "";
        if (field.kind === "choice") {
          return (
            <label key={field.name}>
              {field.label}
              <select
                value={text}
                aria-describedby={describedBy}
                onChange={(e) => onChange(field.name, e.target.value)}
              >
                {!field.required && <option value="">default</option>}
                {field.choices.map((choice) => (
                  <option key={String(choice)} value={String(choice)}>
                    {String(choice)}
                  </option>
                ))}
              </select>
              <Hint field={field} id={hintId} />
            </label>
          );
        }
        return (
          <label key={field.name}>
            {field.label}
            <input
              type={field.kind === "number" ? "number" : "text"}
              value={text}
              min={field.kind === "number" ? field.min : undefined}
              max={field.kind === "number" ? field.max : undefined}
              step={field.kind === "number" && !field.integer ? "any" : undefined}
              placeholder={field.kind === "list" ? "none" : "default"}
              aria-describedby={describedBy}
              onChange={(e) => onChange(field.name, e.target.value)}
            />
            <Hint field={field} id={hintId} />
          </label>
        );
      })}
    </fieldset>
  );
}

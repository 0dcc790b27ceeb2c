import type { FieldValues, FormField } from "../schema";

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
  if (fields.length === 0) return null;
  return (
    <fieldset className="model-parameters">
      <legend>Parameters</legend>
      {fields.map((field) => {
        const value = values[field.name];
        if (field.kind === "toggle") {
          return (
            <label key={field.name} className="checkbox">
              <input
                type="checkbox"
                checked={value === true}
                disabled={field.fixed}
                onChange={(e) => onChange(field.name, e.target.checked)}
              />
              {field.label}
            </label>
          );
        }
        const text = typeof value === "string" ? value : "";
        if (field.kind === "choice") {
          return (
            <label key={field.name}>
              {field.label}
              <select value={text} onChange={(e) => onChange(field.name, e.target.value)}>
                {!field.required && <option value="">default</option>}
                {field.choices.map((choice) => (
                  <option key={String(choice)} value={String(choice)}>
                    {String(choice)}
                  </option>
                ))}
              </select>
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
              placeholder="default"
              onChange={(e) => onChange(field.name, e.target.value)}
            />
          </label>
        );
      })}
    </fieldset>
  );
}

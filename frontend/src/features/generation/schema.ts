// A model's parameters (JSON Schema of the recipe's `options`) as the fields of a form, and back.

/** One field of the Generate form, drawn from one property of the model's schema. */
export type FormField =
  | { name: string; label: string; kind: "choice"; choices: readonly (string | number)[]; required: boolean }
  | { name: string; label: string; kind: "toggle"; fixed: boolean }
  | { name: string; label: string; kind: "number"; integer: boolean; min?: number; max?: number }
  | { name: string; label: string; kind: "text" };

/** What the form holds for each field: text for inputs and selects, a boolean for toggles. */
export type FieldValues = Record<string, string | boolean>;

interface PropertySchema {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
}

/** `videoDurationSeconds` → "Video duration seconds". */
export function labelOf(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function propertiesOf(schema: Record<string, unknown>): [string, PropertySchema][] {
  const properties = schema["properties"];
  if (typeof properties !== "object" || properties === null) return [];
  return Object.entries(properties as Record<string, PropertySchema>);
}

export function fieldsOf(schema: Record<string, unknown>): FormField[] {
  return propertiesOf(schema).map(([name, property]): FormField => {
    const label = labelOf(name);
    if (Array.isArray(property.enum)) {
      const choices = property.enum.filter((v): v is string | number => typeof v === "string" || typeof v === "number");
      return { name, label, kind: "choice", choices, required: property.default !== undefined };
    }
    if (property.type === "boolean") return { name, label, kind: "toggle", fixed: property.const !== undefined };
    if (property.type === "integer" || property.type === "number") {
      return {
        name,
        label,
        kind: "number",
        integer: property.type === "integer",
        ...(property.minimum !== undefined && { min: property.minimum }),
        ...(property.maximum !== undefined && { max: property.maximum }),
      };
    }
    return { name, label, kind: "text" };
  });
}

/** The form's starting values: each property's default (or its const), else empty. */
export function defaultsOf(schema: Record<string, unknown>): FieldValues {
  const values: FieldValues = {};
  for (const [name, property] of propertiesOf(schema)) {
    const initial = property.const ?? property.default;
    if (property.type === "boolean") values[name] = initial === true;
    else values[name] = initial === undefined || initial === null ? "" : String(initial);
  }
  return values;
}

/**
 * The recipe's `options` from what the form holds: numbers as numbers, empty fields left
 * out (the model's default applies), a choice of numbers sent as the number it shows.
 */
export function optionsFrom(fields: readonly FormField[], values: FieldValues): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined) continue;
    if (field.kind === "toggle") {
      options[field.name] = value === true;
      continue;
    }
    if (typeof value !== "string" || value.trim() === "") continue;
    if (field.kind === "number") {
      const number = Number(value);
      if (Number.isFinite(number)) options[field.name] = field.integer ? Math.round(number) : number;
    } else if (field.kind === "choice") {
      options[field.name] = field.choices.find((choice) => String(choice) === value) ?? value;
    } else {
      options[field.name] = value.trim();
    }
  }
  return options;
}

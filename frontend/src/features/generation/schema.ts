// A model's parameters (JSON Schema of the recipe's `options`) as the fields of a form, and back.

/** What every field has: the option's name, its label and, when the schema says, what it is for. */
interface FieldBase {
  name: string;
  label: string;
  hint?: string;
}

/** One field of the Generate form, drawn from one property of the model's schema. */
export type FormField =
  | (FieldBase & { kind: "choice"; choices: readonly (string | number)[]; required: boolean })
  | (FieldBase & { kind: "toggle"; fixed: boolean })
  | (FieldBase & { kind: "number"; integer: boolean; min?: number; max?: number })
  | (FieldBase & { kind: "list"; hint: string; minItems?: number; maxItems?: number })
  | (FieldBase & { kind: "text" });

/** What the form holds for each field: text for inputs and selects (a list as comma-separated text), a boolean for toggles. */
export type FieldValues = Record<string, string | boolean>;

interface PropertySchema {
  type?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  items?: { type?: string };
  minItems?: number;
  maxItems?: number;
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

/** An array the form can hold as comma-separated text: one of strings (or of items it does not type). */
function isListOfStrings(property: PropertySchema): boolean {
  return property.type === "array" && (property.items?.type === undefined || property.items.type === "string");
}

/** "2 to 10 values", "at least 2 values", "at most 10 values" or "values". */
function countOf(minItems: number | undefined, maxItems: number | undefined): string {
  if (minItems !== undefined && maxItems !== undefined) {
    return minItems === maxItems ? `${minItems} values` : `${minItems} to ${maxItems} values`;
  }
  if (minItems !== undefined) return `at least ${minItems} values`;
  if (maxItems !== undefined) return `at most ${maxItems} values`;
  return "values";
}

/** What a list is for (its description, if the schema gives one), how many values it takes and how to type them. */
function listHint(property: PropertySchema): string {
  const howTo = `${countOf(property.minItems, property.maxItems)}, separated by commas`;
  const purpose = property.description?.trim();
  return purpose ? `${purpose} (${howTo})` : howTo;
}

export function fieldsOf(schema: Record<string, unknown>): FormField[] {
  return propertiesOf(schema).map(([name, property]): FormField => {
    const label = labelOf(name);
    const described = property.description?.trim() ? { hint: property.description.trim() } : {};
    if (Array.isArray(property.enum)) {
      const choices = property.enum.filter((v): v is string | number => typeof v === "string" || typeof v === "number");
      return { name, label, ...described, kind: "choice", choices, required: property.default !== undefined };
    }
    if (property.type === "boolean") {
      return { name, label, ...described, kind: "toggle", fixed: property.const !== undefined };
    }
    if (property.type === "integer" || property.type === "number") {
      return {
        name,
        label,
        ...described,
        kind: "number",
        integer: property.type === "integer",
        ...(property.minimum !== undefined && { min: property.minimum }),
        ...(property.maximum !== undefined && { max: property.maximum }),
      };
    }
    if (isListOfStrings(property)) {
      return {
        name,
        label,
        kind: "list",
        hint: listHint(property),
        ...(property.minItems !== undefined && { minItems: property.minItems }),
        ...(property.maxItems !== undefined && { maxItems: property.maxItems }),
      };
    }
    return { name, label, ...described, kind: "text" };
  });
}

/** The values typed into a list field: split at commas, trimmed, empty ones dropped. */
export function itemsOf(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** The form's starting values: each property's default (or its const), else empty; a list's default joined by commas. */
export function defaultsOf(schema: Record<string, unknown>): FieldValues {
  const values: FieldValues = {};
  for (const [name, property] of propertiesOf(schema)) {
    const initial = property.const ?? property.default;
    if (property.type === "boolean") values[name] = initial === true;
    else if (Array.isArray(initial)) values[name] = initial.map(String).join(", ");
    else values[name] = initial === undefined || initial === null ? "" : String(initial);
  }
  return values;
}

/**
 * The recipe's `options` from what the form holds: numbers as numbers, a list as an array of
 * its values, empty fields left out (the model's default applies), a choice of numbers sent as
 * the number it shows.
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
    } else if (field.kind === "list") {
      const items = itemsOf(value);
      if (items.length > 0) options[field.name] = items;
    } else {
      options[field.name] = value.trim();
    }
  }
  return options;
}

/**
 * What the server would refuse in these values, one sentence per field, checked before sending:
 * a list given with fewer or more values than its schema allows. An empty list is not a problem
 * (it is left out and the model's default applies).
 */
export function problemsOf(fields: readonly FormField[], values: FieldValues): string[] {
  const problems: string[] = [];
  for (const field of fields) {
    if (field.kind !== "list") continue;
    const value = values[field.name];
    const items = typeof value === "string" ? itemsOf(value) : [];
    if (items.length === 0) continue;
    const given = `${items.length} given`;
    if (field.minItems !== undefined && items.length < field.minItems) {
      problems.push(`${field.label}: give at least ${field.minItems} values separated by commas (${given}), or none.`);
    } else if (field.maxItems !== undefined && items.length > field.maxItems) {
      problems.push(`${field.label}: give at most ${field.maxItems} values (${given}).`);
    }
  }
  return problems;
}

// What a generation will cost, before it is sent: the model's credits per unit times the units asked for.
import type { ModelInfo } from "@proto/messages";

export interface CostEstimate {
  credits: number;
  units: number;
  unit: string;
}

/** Options that say how long a clip is, in seconds, for models priced by the second. */
const DURATION_OPTIONS = ["videoDurationSeconds", "durationSeconds"] as const;

function schemaDefault(model: ModelInfo, name: string): unknown {
  const properties = model.parameters["properties"] as Record<string, { default?: unknown }> | undefined;
  return properties?.[name]?.default;
}

/** How many of the model's units a request with these options asks for (one image; N seconds). */
export function unitsOf(model: ModelInfo, options: Record<string, unknown>): number {
  if (model.unit !== "second") return 1;
  for (const name of DURATION_OPTIONS) {
    const given = options[name] ?? schemaDefault(model, name);
    const seconds = typeof given === "number" ? given : Number(given);
    if (given !== undefined && Number.isFinite(seconds) && seconds > 0) return seconds;
  }
  return 1;
}

export function estimateCost(model: ModelInfo, options: Record<string, unknown>): CostEstimate {
  const units = unitsOf(model, options);
  // Rounded to hundredths: credits per second times fractional seconds must not show float noise.
  const credits = Math.round(model.costUnits * units * 100) / 100;
  return { credits, units, unit: model.unit };
}

export function describeCost({ credits, units, unit }: CostEstimate): string {
  const plural = units === 1 ? unit : `${unit}s`;
  return `${credits} credit${credits === 1 ? "" : "s"} (${units} ${plural})`;
}

import type { MediaKind, ModelInfo } from "@proto/messages";
import { type FormEvent, useMemo, useState } from "react";
import { useSubmit } from "../../../hooks/useSubmit";
import { ASSET_TYPES_BY_KIND } from "../../../lib/assetTypes";
import { describeCost, estimateCost } from "../cost";
import { modelsFor, preferredModel } from "../models";
import { type FieldValues, defaultsOf, fieldsOf, optionsFrom, problemsOf } from "../schema";
import { ModelParameters } from "./ModelParameters";

/** An asset on the canvas whose active variant can guide a generation. */
export interface ReferenceChoice {
  assetId: string;
  name: string;
  variantId: string;
}

/** What the form asks for; the app sends it as `generate:request`. */
export interface GenerateOrder {
  name: string;
  assetType: string;
  mediaKind: MediaKind;
  prompt: string;
  model: string;
  referenceVariantIds: string[];
  options: Record<string, unknown>;
}

interface GenerateFormProps {
  models: readonly ModelInfo[] | null;
  modelsError: string | null;
  references: readonly ReferenceChoice[];
  /** references ticked when the form opens (the asset shown in the details) */
  initialReferences?: readonly string[];
  onGenerate: (order: GenerateOrder) => Promise<void>;
  onClose: () => void;
}

export function GenerateForm(props: GenerateFormProps) {
  const { models, references } = props;
  const [mediaKind, setMediaKind] = useState<MediaKind>("image");
  const [assetType, setAssetType] = useState(ASSET_TYPES_BY_KIND.image[0] ?? "item");
  const [name, setName] = useState("");
  const [prompt, setPrompt] = useState("");
  const [chosenModel, setChosenModel] = useState<string | null>(null);
  const [values, setValues] = useState<FieldValues | null>(null);
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set(props.initialReferences ?? []));
  /** what the parameters hold that the server would refuse, found when Generate was pressed */
  const [problems, setProblems] = useState<readonly string[]>([]);

  const usable = useMemo(() => modelsFor(models ?? [], mediaKind, assetType), [models, mediaKind, assetType]);
  const model = usable.find((candidate) => candidate.id === chosenModel) ?? preferredModel(usable);
  const fields = useMemo(() => (model === undefined ? [] : fieldsOf(model.parameters)), [model]);
  const shownValues = values ?? (model === undefined ? {} : defaultsOf(model.parameters));
  const options = optionsFrom(fields, shownValues);
  const cost = model === undefined ? null : estimateCost(model, options);

  const [started, setStarted] = useState<string | null>(null);
  const { busy, error, submit } = useSubmit(async (order: GenerateOrder) => {
    setStarted(null);
    await props.onGenerate(order);
    setStarted(order.name);
    setName("");
    setPrompt("");
  });

  const chooseModel = (id: string | null) => {
    setChosenModel(id);
    setValues(null);
    setProblems([]);
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (model === undefined || name.trim() === "" || prompt.trim() === "") return;
    const found = problemsOf(fields, shownValues);
    setProblems(found);
    if (found.length > 0) return;
    const referenceVariantIds = references.filter((ref) => picked.has(ref.assetId)).map((ref) => ref.variantId);
    void submit({
      name: name.trim(),
      assetType,
      mediaKind,
      prompt: prompt.trim(),
      model: model.id,
      referenceVariantIds,
      options,
    });
  };

  return (
    <form className="generate-form" onSubmit={onSubmit} aria-label="Generate">
      <header>
        <h2>Generate</h2>
        <button type="button" className="close" aria-label="Close the Generate form" onClick={props.onClose}>
          ×
        </button>
      </header>
      <div className="form-row">
        <label>
          Media kind
          <select
            value={mediaKind}
            onChange={(e) => {
              const kind = e.target.value as MediaKind;
              setMediaKind(kind);
              setAssetType(ASSET_TYPES_BY_KIND[kind][0] ?? "item");
              chooseModel(null);
            }}
          >
            <option value="image">image</option>
            <option value="audio">audio</option>
            <option value="video">video</option>
          </select>
        </label>
        <label>
          Type
          <select
            value={assetType}
            onChange={(e) => {
              setAssetType(e.target.value);
              chooseModel(null);
            }}
          >
            {ASSET_TYPES_BY_KIND[mediaKind].map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name of the new asset" />
      </label>
      <label>
        Prompt
        <textarea value={prompt} rows={3} onChange={(e) => setPrompt(e.target.value)} placeholder="what to make" />
      </label>
      {models === null ? (
        <p className="hint">{props.modelsError ?? "Loading the models…"}</p>
      ) : usable.length === 0 ? (
        <p className="hint">No model makes {mediaKind} for this type.</p>
      ) : (
        <label>
          Model
          <select value={model?.id ?? ""} onChange={(e) => chooseModel(e.target.value)}>
            {usable.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.label}
              </option>
            ))}
          </select>
        </label>
      )}
      <ModelParameters
        fields={fields}
        values={shownValues}
        onChange={(fieldName, value) => {
          setValues({ ...shownValues, [fieldName]: value });
          setProblems([]);
        }}
      />
      {references.length > 0 && (
        <fieldset className="references">
          <legend>References</legend>
          {references.map((ref) => (
            <label key={ref.assetId} className="checkbox">
              <input
                type="checkbox"
                checked={picked.has(ref.assetId)}
                onChange={(e) => {
                  const next = new Set(picked);
                  if (e.target.checked) next.add(ref.assetId);
                  else next.delete(ref.assetId);
                  setPicked(next);
                }}
              />
              {ref.name}
            </label>
          ))}
        </fieldset>
      )}
      {cost !== null && (
        <p className="cost" data-testid="cost" data-credits={cost.credits}>
          Cost: {describeCost(cost)}
        </p>
      )}
      <button type="submit" disabled={busy || model === undefined || name.trim() === "" || prompt.trim() === ""}>
        Generate {mediaKind}
      </button>
      {started !== null && (
        <p className="hint" role="status">
          “{started}” is on the canvas and being generated.
        </p>
      )}
      {problems.map((problem) => (
        <p key={problem} className="form-error" role="alert">
          {problem}
        </p>
      ))}
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

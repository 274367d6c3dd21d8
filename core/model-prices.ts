// What a model's tokens cost, per million input and output tokens, keyed `<provider>/<model>` (`<provider>/*`
// prices every model of a provider). The analytics and the runs list price tokens with it in SQL
// (db/repositories/analytics.ts); MODEL_PRICES (core/config.ts) adds to or overrides the defaults below.
import { z } from 'zod';

export interface ModelPrice {
  /** US dollars per million input (prompt) tokens. */
  inputPerMTok: number;
  /** US dollars per million output (completion) tokens. */
  outputPerMTok: number;
}

export type ModelPrices = Record<string, ModelPrice>;

/** `<provider>/<model>` or `<provider>/*`: the provider as agent nodes name it, then the model id. */
export const MODEL_PRICE_KEY = /^[a-z0-9][a-z0-9-]*\/\S+$/;

const price = z.number().finite().min(0).max(1_000_000);

export const modelPriceSchema = z.strictObject({ inputPerMTok: price, outputPerMTok: price });

// The keys are checked one by one first (parseModelPrices): zod's record reports a bad key only as "Invalid key in record".
export const modelPricesSchema = z.record(z.string().regex(MODEL_PRICE_KEY), modelPriceSchema);

/**
 * The built-in table: echo is free; the list prices (USD per million tokens) of the providers' common models
 * as published when this was written. Prices change: set MODEL_PRICES for the ones you pay.
 */
export const DEFAULT_MODEL_PRICES: ModelPrices = {
  'echo/*': { inputPerMTok: 0, outputPerMTok: 0 },
  'openai/gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
  'openai/gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  'openai/gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
  'openai/gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
  'openai/gpt-4.1-nano': { inputPerMTok: 0.1, outputPerMTok: 0.4 },
  'anthropic/claude-sonnet-4-0': { inputPerMTok: 3, outputPerMTok: 15 },
  'anthropic/claude-opus-4-0': { inputPerMTok: 15, outputPerMTok: 75 },
  'anthropic/claude-3-5-haiku-latest': { inputPerMTok: 0.8, outputPerMTok: 4 },
};

/** Parses MODEL_PRICES (JSON) over the defaults; throws an Error whose message says what is wrong and where. */
export function parseModelPrices(json: string | undefined, defaults: ModelPrices = DEFAULT_MODEL_PRICES): ModelPrices {
  if (json === undefined || json.trim() === '') return { ...defaults };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`is not JSON (${(err as Error).message}); expected {"<provider>/<model>": {"inputPerMTok": n, "outputPerMTok": n}}`, { cause: err });
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const bad = Object.keys(value).filter((key) => !MODEL_PRICE_KEY.test(key));
    if (bad.length) throw new Error(bad.map((key) => `${key}: must be "<provider>/<model>" or "<provider>/*"`).join('; '));
  }
  const parsed = modelPricesSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message));
    throw new Error(issues.join('; '));
  }
  return { ...defaults, ...parsed.data };
}

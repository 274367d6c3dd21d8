// The SQL that names the model behind a node row's tokens and prices them with the price table
// (core/model-prices.ts), passed as one jsonb parameter: the runs list and the analytics both price with it,
// so a run's cost and the dashboard's cost per model cannot disagree.

/**
 * A node's tokens are its model's: an agent's output names `provider` and `model`. A node whose output names
 * none (a conversation, whose participants may use several models) counts under its node type, with no model.
 */
export const NODE_PROVIDER_SQL = `coalesce(n.output->>'provider', n.node_type)`;
export const NODE_MODEL_SQL = `(n.output->>'model')`;

/** The price object (`{inputPerMTok, outputPerMTok}`) of a provider and model: the exact key, else `<provider>/*`. */
export function priceSql(prices: string, provider: string, model: string): string {
  return `coalesce(${prices} -> (${provider} || '/' || coalesce(${model}, '')), ${prices} -> (${provider} || '/*'))`;
}

/** USD of `input` and `output` tokens at `price` (null without a price). */
export function costSql(price: string, input: string, output: string): string {
  return `((${input})::numeric * (${price}->>'inputPerMTok')::numeric + (${output})::numeric * (${price}->>'outputPerMTok')::numeric) / 1000000`;
}

/** A node row's input and output tokens (`n` is node_executions). */
export const NODE_INPUT_TOKENS_SQL = `coalesce((n.usage->>'inputTokens')::bigint, 0)`;
export const NODE_OUTPUT_TOKENS_SQL = `coalesce((n.usage->>'outputTokens')::bigint, 0)`;
export const NODE_TOTAL_TOKENS_SQL = `coalesce((n.usage->>'totalTokens')::bigint, 0)`;

/**
 * The cost of a group of node rows: the sum of each row's priced tokens, or null as soon as one row with
 * tokens has no price (a cost that leaves some tokens out would read as the whole).
 */
export function groupCostSql(prices: string): string {
  const price = priceSql(prices, NODE_PROVIDER_SQL, NODE_MODEL_SQL);
  return `case when coalesce(bool_and(${price} is not null or ${NODE_TOTAL_TOKENS_SQL} = 0), true)
    then coalesce(sum(${costSql(price, NODE_INPUT_TOKENS_SQL, NODE_OUTPUT_TOKENS_SQL)}), 0)::float8 end`;
}

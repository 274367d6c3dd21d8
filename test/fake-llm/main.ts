// Runs the fake LLM server as its own process, for a dev stack or e2e run whose worker needs a model:
// `FAKE_LLM_PORT=4010 tsx test/fake-llm/main.ts`, then OPENAI_BASE_URL=http://127.0.0.1:4010/v1 and
// ANTHROPIC_BASE_URL=http://127.0.0.1:4010 for the worker. Script it over HTTP (see server.ts).
import { startFakeLlmServer } from './server';

async function main(): Promise<void> {
  const port = Number(process.env.FAKE_LLM_PORT ?? 0);
  const server = await startFakeLlmServer({ port });
  // One JSON line on stdout, so a launcher can read the chosen port.
  process.stdout.write(`${JSON.stringify({ url: server.url, openaiBaseURL: server.openaiBaseURL, anthropicBaseURL: server.anthropicBaseURL })}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();

// Runs one tool-using turn through poe2openai with the Vercel AI SDK's default OpenAI provider
// (`provider(model)`, which speaks the Responses API) and prints one JSON line, for
// tests/e2e/test_responses_clients.py to assert on.
//
//   node responses.mjs <baseURL> <model> <generate|stream> <prompt> [--no-store]
//
// `--no-store` sets the provider option `store: false` (the whole conversation is re-sent,
// reasoning items included, instead of references to stored items). Offers one tool,
// get_weather({city, days?}), whose execute records its input and answers
// "sunny, 24°C"; up to 3 steps. Prints {text, calls, steps, finishReason, deltas} or
// {error: {name, message}}, always with exit code 0.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const [baseURL, model, mode, prompt, flag] = process.argv.slice(2);

const provider = createOpenAI({ baseURL, apiKey: "test-key" });
const calls = [];
const tools = {
  get_weather: tool({
    description: "The weather in a city",
    inputSchema: z.object({ city: z.string(), days: z.number().int().optional() }),
    execute: async (input) => {
      calls.push(input);
      return "sunny, 24°C";
    },
  }),
};
const options = {
  model: provider(model),
  prompt,
  tools,
  stopWhen: stepCountIs(3),
  maxRetries: 0,
  ...(flag === "--no-store" && { providerOptions: { openai: { store: false } } }),
};

let output;
try {
  if (mode === "stream") {
    let failure = null;
    const result = streamText({ ...options, onError: ({ error }) => (failure = error) });
    let deltas = 0;
    for await (const _ of result.textStream) deltas++;
    if (failure) throw failure;
    const steps = await result.steps;
    output = { text: await result.text, calls, steps: steps.length, finishReason: await result.finishReason, deltas };
  } else {
    const result = await generateText(options);
    output = { text: result.text, calls, steps: result.steps.length, finishReason: result.finishReason };
  }
} catch (err) {
  output = { error: { name: err?.name ?? "Error", message: String(err?.message ?? err) } };
}
console.log(JSON.stringify(output));

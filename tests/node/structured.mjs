// Asks poe2openai for an object with the Vercel AI SDK (generateObject / streamObject with a zod
// schema on the chat-completions model) and prints one JSON line, for
// tests/e2e/test_structured_clients.py to assert on.
//
//   node structured.mjs <baseURL> <model> <generate|stream> <message>
//
// Prints {object} or {error: {name, message, text}} (text: what the model said, when the SDK
// could not make an object of it), always with exit code 0.
import { createOpenAI } from "@ai-sdk/openai";
import { generateObject, streamObject } from "ai";
import { z } from "zod";

const [baseURL, model, mode, message] = process.argv.slice(2);

const person = z.object({
  name: z.string(),
  age: z.number().int(),
  colour: z.enum(["red", "blue"]),
  address: z.object({ city: z.string(), country: z.string() }),
  tags: z.array(z.string()),
  nickname: z.string().nullable(),
});

const provider = createOpenAI({ baseURL, apiKey: "test-key" });
const options = { model: provider.chat(model), schema: person, prompt: message, maxRetries: 0 };

let output;
try {
  if (mode === "stream") {
    let failure = null;
    const result = streamObject({ ...options, onError: ({ error }) => (failure = error) });
    let partials = 0;
    for await (const _ of result.partialObjectStream) partials++;
    if (failure) throw failure;
    output = { object: await result.object, partials };
  } else {
    output = { object: (await generateObject(options)).object };
  }
} catch (err) {
  output = { error: { name: err?.name ?? "Error", message: String(err?.message ?? err), text: err?.text ?? null } };
}
console.log(JSON.stringify(output));

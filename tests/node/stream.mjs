// Streams one chat completion through poe2openai with the official openai SDK and prints
// one JSON line, for tests/e2e/test_node_sdk.py to assert on.
//
//   node stream.mjs <baseURL> <model> <message> [--usage] [--create] [--tools]
//
// Arguments fall back to OPENAI_BASE_URL, MODEL and MESSAGE. By default it uses the
// `chat.completions.stream()` helper (ChatCompletionStream), which throws on a missing role or
// finish_reason. `--create` iterates `chat.completions.create({stream: true})` instead and also
// reports how many chunks carried a role and a finish_reason (the helper hides repeats).
// `--usage` asks for `stream_options: {include_usage: true}`; `--tools` offers a get_weather
// function and reports the tool calls of the final message.
// SDK errors are printed as {error: {name, status, message}} with exit code 0.
import OpenAI from "openai";

const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith("--")));
const [baseURL = process.env.OPENAI_BASE_URL, model = process.env.MODEL, message = process.env.MESSAGE] =
  process.argv.slice(2).filter((a) => !a.startsWith("--"));

const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || "test-key", maxRetries: 0 });
const params = {
  model,
  messages: [{ role: "user", content: message }],
  ...(flags.has("--usage") && { stream_options: { include_usage: true } }),
  ...(flags.has("--tools") && {
    tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } } } } }],
  }),
};

async function viaHelper() {
  let deltas = 0;
  const stream = client.chat.completions.stream(params);
  stream.on("content", () => deltas++);
  const completion = await stream.finalChatCompletion();
  const choice = completion.choices[0];
  return {
    content: choice.message.content,
    finishReason: choice.finish_reason,
    role: choice.message.role,
    deltas,
    usage: completion.usage ?? null,
    toolCalls: choice.message.tool_calls ?? null,
  };
}

async function viaCreate() {
  const result = { content: "", finishReason: null, role: null, deltas: 0, usage: null, roles: 0, finishReasons: 0 };
  const stream = await client.chat.completions.create({ ...params, stream: true });
  for await (const chunk of stream) {
    if (chunk.usage) result.usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta.role) (result.role = choice.delta.role), result.roles++;
      if (choice.delta.content) (result.content += choice.delta.content), result.deltas++;
      if (choice.finish_reason) (result.finishReason = choice.finish_reason), result.finishReasons++;
    }
  }
  return result;
}

let output;
try {
  output = await (flags.has("--create") ? viaCreate() : viaHelper());
} catch (err) {
  output = { error: { name: err?.constructor?.name ?? "Error", status: err?.status ?? null, message: String(err?.message ?? err) } };
}
console.log(JSON.stringify(output));

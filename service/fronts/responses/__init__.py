"""The OpenAI Responses API (`/v1/responses`) on any Poe bot."""

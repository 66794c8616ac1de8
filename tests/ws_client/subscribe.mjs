// A third-party graphql-transport-ws client for the tests: graphql-ws's createClient over `ws`.
//
//   node subscribe.mjs <url> <token-or-empty> <query> <variables-json> <count>
//
// Prints each `next` payload as one JSON line on stdout and exits 0 after <count> of them. On an
// error (a rejected connection, an `error` message, the operation ending early) prints one line
// `{"error": ...}` and exits 1. Once the server acknowledges the connection it writes
// `{"event":"connected"}` on stderr, so a caller knows when the subscribe is on its way.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, query, variablesJson, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!url || !query || !Number.isInteger(count) || count < 1) {
  console.error("usage: node subscribe.mjs <url> <token-or-empty> <query> <variables-json> <count>");
  process.exit(2);
}

// graphql-ws rejects with a CloseEvent (connection closed), an array of GraphQL errors (an `error`
// message) or an Error: keep what a test can assert on.
function describe(error) {
  if (Array.isArray(error)) return error;
  if (error instanceof Error) return { message: error.message };
  if (error && typeof error.code === "number") return { code: error.code, reason: error.reason };
  return { message: String(error) };
}

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
  retryAttempts: 0, // a test wants the first failure, not a reconnect
  on: { connected: () => console.error(JSON.stringify({ event: "connected" })) },
});

let code = 0;
let received = 0;
try {
  const variables = variablesJson ? JSON.parse(variablesJson) : undefined;
  for await (const result of client.iterate({ query, variables })) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (++received === count) break; // leaving the loop sends `complete`
  }
  if (received < count) {
    throw new Error(`the operation ended after ${received} of ${count} results`);
  }
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: describe(error) })}\n`);
  code = 1;
}
await client.dispose();
process.exit(code);

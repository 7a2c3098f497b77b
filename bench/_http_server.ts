/**
 * The loopback server of the bench's HTTP workloads, run as a child process so that serving costs
 * the measured process nothing: reads a JSON array of response bodies from stdin, listens on
 * 127.0.0.1 (a free port, printed as the first line of stdout) and answers `GET /<i>` with body
 * `i` as `application/json`, with its `Content-Length`, as a token endpoint would.
 *
 * @module
 */

const bodies = (JSON.parse(await new Response(Deno.stdin.readable).text()) as string[]).map(
  (text) => new TextEncoder().encode(text),
);
const headers = { "content-type": "application/json;charset=UTF-8" };
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(port),
}, (request) => {
  const body = bodies[Number(new URL(request.url).pathname.slice(1))];
  return body === undefined
    ? new Response(null, { status: 404 })
    : new Response(body, { headers: { ...headers, "content-length": String(body.byteLength) } });
});
await server.finished;

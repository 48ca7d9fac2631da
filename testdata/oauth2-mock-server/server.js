// oauth2-mock-server (axa-group, from npm, pinned by package-lock.json) as
// its users run it, for tokenlab's probe test: the comparison of the real
// mock with `tokenlab serve --preset permissive`.
//
//   node server.js            (OAUTH2_MOCK_PORT: the port; 0 or unset picks a free one)
//
// It listens on 127.0.0.1 only and prints one JSON line on stdout once it
// serves: {"issuer":"http://127.0.0.1:PORT"} (the mock's own default issuer
// would say localhost; the probe connects to the address it is given). It
// exits when stdin closes, so a test that dies never leaves it running.
//
// Nothing else is configured: one RS256 signing key and the mock's default
// behaviour (any client, any user, any code, any refresh token).
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
const port = Number(process.env.OAUTH2_MOCK_PORT || 0);
await server.start(port, '127.0.0.1');
server.issuer.url = `http://127.0.0.1:${server.address().port}`;
process.stdout.write(`${JSON.stringify({ issuer: server.issuer.url })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

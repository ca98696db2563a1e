'use strict';
// What the library scripts share: the LRS they talk to (from the environment
// interop_test.go sets), named steps whose failure says which step failed
// and what the LRS answered, and small checks.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');

function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the scripts through interop_test.go (go test ./interop)`);
  }
  return v;
}

// The LRS under test: its endpoint (ending in /xapi/), an LMS credential
// that may do anything, and a cmi5 AU credential with the scopes of a launch
// token.
const lrs = {
  endpoint: env('LRS_ENDPOINT'),
  key: env('LRS_KEY'),
  secret: env('LRS_SECRET'),
  auKey: env('LRS_AU_KEY'),
  auSecret: env('LRS_AU_SECRET'),
};

function basicAuth(key, secret) {
  return 'Basic ' + Buffer.from(`${key}:${secret}`).toString('base64');
}

let current = '(start)';
let passed = 0;

// step runs one named part of a script and returns what it returned.
async function step(name, fn) {
  current = name;
  const out = await fn();
  passed++;
  console.log(`ok   ${name}`);
  return out;
}

// main runs a script's body; a failure prints the step, the error and, for
// an HTTP error, what the LRS answered, and exits 1. It exits at once either
// way, so that nothing left open (a server, a kept-alive socket) holds the
// process. (Writes to a pipe or file are synchronous: nothing printed is lost.)
function main(body) {
  body().then(
    () => {
      console.log(`${passed} passed, 0 failed`);
      process.exit(0);
    },
    (err) => {
      console.log(`FAIL ${current}`);
      console.log(describe(err));
      console.log(`${passed} passed, 1 failed`);
      process.exit(1);
    },
  );
}

function describe(err) {
  if (err && err.response) { // axios
    const r = err.response;
    return `HTTP ${r.status} from ${r.config && r.config.method} ${r.config && r.config.url}: ` +
      JSON.stringify(r.data) + '\n' + err.stack;
  }
  if (err && err.stack) return err.stack;
  return String(typeof err === 'object' ? JSON.stringify(err) : err);
}

// The kind in the LRS's JSON error body for each status the scripts expect;
// the fetch transport of xAPI.js reports only the body of an error.
const kindOf = { 400: 'invalid', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 412: 'precondition_failed' };

// rejectsWith awaits promise, which must fail with HTTP status: an error
// with that status (axios's err.response.status, or err.status), or one
// whose message is the LRS's error body of that status.
async function rejectsWith(promise, status) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected HTTP ${status}, but the request succeeded`);
  if (err.response) {
    assert.equal(err.response.status, status, `expected HTTP ${status}: ${describe(err)}`);
    return err;
  }
  if (typeof err.status === 'number') {
    assert.equal(err.status, status, `expected HTTP ${status}: ${err.message}`);
    return err;
  }
  let body;
  try {
    body = JSON.parse(err.message);
  } catch {
    assert.fail(`expected HTTP ${status}, got a non-HTTP error: ${describe(err)}`);
  }
  assert.equal(body.error && body.error.kind, kindOf[status], `expected the error of HTTP ${status}: ${err.message}`);
  return err;
}

// raw sends a request straight to the LRS (with the LMS credential unless
// headers say otherwise), to check what a library stored independently of
// how the library reads it.
async function raw(method, path, { headers = {}, body, version = '1.0.3' } = {}) {
  const res = await fetch(lrs.endpoint + path, {
    method,
    body,
    headers: { Authorization: basicAuth(lrs.key, lrs.secret), 'X-Experience-API-Version': version, ...headers },
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function sha1(s) {
  return crypto.createHash('sha1').update(s).digest('hex');
}

function uuid() {
  return crypto.randomUUID();
}

// sameIds asserts that two lists hold the same ids, in any order.
function sameIds(got, want, msg) {
  assert.deepEqual([...got].sort(), [...want].sort(), msg);
}

module.exports = { assert, lrs, basicAuth, step, main, rejectsWith, raw, sha1, uuid, sameIds };

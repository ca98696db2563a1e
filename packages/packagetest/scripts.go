package packagetest

// xapiJS is what the scripts of the cmi5 and Tin Can test content share:
// xapi(method, resource, params, body) calls the LRS's xAPI resource
// under the launch's endpoint with the credentials in auth (set once
// known), and show(text) writes the page's status line (#status).
const xapiJS = `
  let auth = '';
  function xapi(endpoint, method, resource, params, body) {
    const u = endpoint + resource + (params ? '?' + new URLSearchParams(params) : '');
    const headers = { 'Authorization': auth, 'X-Experience-API-Version': '1.0.3' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(u, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }
  function show(text) {
    const p = document.getElementById(status);
    if (p) p.textContent = text;
  }
  function seconds(since) {
    return 'PT' + ((Date.now() - since) / 1000).toFixed(2) + 'S';
  }
`

// AUScript is the script of the cmi5 test course's AUs: what a cmi5 AU
// must do (cmi5 sections 7 to 11), written with fetch and nothing else. It
// reads the launch parameters (endpoint, fetch, actor, registration,
// activityId), POSTs to the fetch URL for the auth-token, reads
// LMS.LaunchData and cmi5LearnerPreferences, and sends initialized; then
// it offers, as window.au, for browser tests to call:
//
//	au.ready, au.launchData, au.preferences, au.errors
//	au.complete()        completed (completion, duration), resolving to "true" or the HTTP status
//	au.pass(scaled)      passed (success, the score, duration; masteryScore in the context if given)
//	au.fail(scaled)      failed, likewise
//	au.terminate()       terminated (duration)
//	au.send(verb, result) any cmi5 defined statement
//	au.refetch()         the fetch URL's answer to a second POST, as JSON text
//
// Every statement has its own id, the timestamp, the registration, the
// AU's activityId as object and the context template of LMS.LaunchData,
// with the cmi5 category (and moveon for a result with success or
// completion).
const AUScript = `(function () {
  'use strict';
  const status = 'au-state';
` + xapiJS + `
  const q = new URLSearchParams(location.search);
  const endpoint = q.get('endpoint'), registration = q.get('registration'), activityId = q.get('activityId');
  const actor = JSON.parse(q.get('actor'));
  const au = window.au = { ready: false, launchData: null, preferences: null, errors: [] };
  let started = Date.now();

  function statement(verb, result) {
    const ctx = JSON.parse(JSON.stringify(au.launchData.contextTemplate || {}));
    ctx.registration = registration;
    ctx.contextActivities = ctx.contextActivities || {};
    const cats = [{ id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' }];
    if (result && ('success' in result || 'completion' in result)) {
      cats.push({ id: 'https://w3id.org/xapi/cmi5/context/categories/moveon' });
    }
    ctx.contextActivities.category = (ctx.contextActivities.category || []).concat(cats);
    if ((verb === 'passed' || verb === 'failed') && au.launchData.masteryScore !== undefined) {
      ctx.extensions = ctx.extensions || {};
      ctx.extensions['https://w3id.org/xapi/cmi5/context/extensions/masteryscore'] = au.launchData.masteryScore;
    }
    const st = {
      id: crypto.randomUUID(), actor: actor, timestamp: new Date().toISOString(),
      verb: { id: 'http://adlnet.gov/expapi/verbs/' + verb, display: { 'en-US': verb } },
      object: { objectType: 'Activity', id: activityId }, context: ctx
    };
    if (result) st.result = result;
    return st;
  }

  async function send(verb, result) {
    const r = await xapi(endpoint, 'POST', 'statements', null, statement(verb, result));
    if (!r.ok) {
      au.errors.push(verb + ': ' + r.status + ' ' + await r.text());
      show(verb + ' refused');
      return String(r.status);
    }
    show(verb);
    return 'true';
  }

  au.send = send;
  au.complete = () => send('completed', { completion: true, duration: seconds(started) });
  au.pass = scaled => send('passed', { success: true, score: { scaled: scaled }, duration: seconds(started) });
  au.fail = scaled => send('failed', { success: false, score: { scaled: scaled }, duration: seconds(started) });
  au.terminate = () => send('terminated', { duration: seconds(started) });
  au.refetch = async () => JSON.stringify(await (await fetch(q.get('fetch'), { method: 'POST' })).json());

  (async function () {
    const answer = await (await fetch(q.get('fetch'), { method: 'POST' })).json();
    if (!answer['auth-token']) throw new Error('the fetch URL answered ' + JSON.stringify(answer));
    auth = 'Basic ' + answer['auth-token'];
    const agent = JSON.stringify(actor);
    const ld = await xapi(endpoint, 'GET', 'activities/state', { activityId: activityId, agent: agent, registration: registration, stateId: 'LMS.LaunchData' });
    if (!ld.ok) throw new Error('LMS.LaunchData: ' + ld.status);
    au.launchData = await ld.json();
    const prefs = await xapi(endpoint, 'GET', 'agents/profile', { agent: agent, profileId: 'cmi5LearnerPreferences' });
    if (prefs.ok) au.preferences = await prefs.json();
    started = Date.now();
    au.ready = (await send('initialized')) === 'true';
  })().catch(e => { au.errors.push(String(e)); show(String(e)); });
})();
`

// TinCanScript is the script of the Tin Can test package's page: it reads
// the Tin Can launch parameters (endpoint, auth, actor, registration,
// activity_id), reads its bookmark (a State document of the activity, the
// learner and the registration) and sends attempted; then it offers, as
// window.tc, for browser tests to call:
//
//	tc.ready, tc.bookmark, tc.errors
//	tc.experience()         experienced, resolving to "true" or the HTTP status
//	tc.save(bookmark)       PUT the bookmark
//	tc.finish(scaled)       completed, then passed with the score
//	tc.sendAs(mbox)         a statement of someone else: the HTTP status
const TinCanScript = `(function () {
  'use strict';
  const status = 'story-state';
` + xapiJS + `
  const q = new URLSearchParams(location.search);
  const endpoint = q.get('endpoint'), registration = q.get('registration'), activity = q.get('activity_id');
  const actor = JSON.parse(q.get('actor'));
  auth = q.get('auth');
  const tc = window.tc = { ready: false, bookmark: null, errors: [] };
  const started = Date.now();
  const state = { activityId: activity, agent: JSON.stringify(actor), registration: registration, stateId: 'bookmark' };

  function statement(who, verb, result) {
    const st = {
      actor: who, timestamp: new Date().toISOString(),
      verb: { id: 'http://adlnet.gov/expapi/verbs/' + verb, display: { 'en-US': verb } },
      object: { objectType: 'Activity', id: activity }, context: { registration: registration }
    };
    if (result) st.result = result;
    return st;
  }

  async function send(verb, result) {
    const r = await xapi(endpoint, 'POST', 'statements', null, statement(actor, verb, result));
    if (!r.ok) {
      tc.errors.push(verb + ': ' + r.status + ' ' + await r.text());
      return String(r.status);
    }
    show(verb);
    return 'true';
  }

  tc.experience = () => send('experienced');
  tc.save = async bookmark => {
    const r = await xapi(endpoint, 'PUT', 'activities/state', state, bookmark);
    return r.ok ? 'true' : String(r.status);
  };
  tc.finish = async scaled => {
    const done = await send('completed', { completion: true, duration: seconds(started) });
    if (done !== 'true') return done;
    return send('passed', { success: true, completion: true, score: { scaled: scaled }, duration: seconds(started) });
  };
  tc.sendAs = async mbox => String((await xapi(endpoint, 'POST', 'statements', null,
    statement({ objectType: 'Agent', mbox: mbox }, 'completed'))).status);

  (async function () {
    const r = await xapi(endpoint, 'GET', 'activities/state', state);
    if (r.ok) tc.bookmark = await r.json();
    else if (r.status !== 404) throw new Error('the bookmark: ' + r.status);
    tc.ready = (await send('attempted')) === 'true';
  })().catch(e => { tc.errors.push(String(e)); show(String(e)); });
})();
`

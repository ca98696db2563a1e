'use strict';
// xAPI.js (npm @xapi/xapi) against the LRS, through its CommonJS build.
// XAPI_VERSION is the version header it sends (its default is 1.0.3; it
// declares 1.0.0 to 1.0.3 and sends any other it is given, so 2.0.0 runs
// too); XAPI_ADAPTER picks its transport: axios (its default) or fetch.
//
// Concurrency is the library's: setState/createState take an optional ETag
// and match header, setActivityProfile/setAgentProfile require one,
// create* POST (merge), delete* send If-Match when given an ETag.

const XAPI = require('@xapi/xapi');
const { assert, lrs, step, main, rejectsWith, raw, sha1, uuid, sameIds } = require('./harness');

const version = process.env.XAPI_VERSION || '1.0.3';
const adapter = process.env.XAPI_ADAPTER || 'axios';
const v2 = version.startsWith('2.');

const xapi = new XAPI({ endpoint: lrs.endpoint, auth: XAPI.toBasicAuth(lrs.key, lrs.secret), version, adapter });

const learner = { objectType: 'Agent', mbox: 'mailto:learner@interop.example', name: 'Ada Learner' };
const colleague = { objectType: 'Agent', account: { homePage: 'https://lms.interop.example', name: 'u-42' } };
const course = 'https://interop.example/xapijs/course';
const lesson = 'https://interop.example/xapijs/course/lesson-1';
const registration = uuid();

const stmt = (actor, verb, object, extra = {}) => ({
  actor,
  verb: typeof verb === 'string' ? { id: `http://adlnet.gov/expapi/verbs/${verb}`, display: { 'en-US': verb } } : verb,
  object: typeof object === 'string' ? { objectType: 'Activity', id: object } : object,
  ...extra,
});

// etagOf reads the ETag of a response, whichever transport made it.
function etagOf(res) {
  const h = res.headers;
  return typeof h.get === 'function' ? h.get('etag') : h.etag;
}

main(async () => {
  console.log(`xAPI.js ${require('@xapi/xapi/package.json').version}, xAPI ${version}, ${adapter}`);

  await step('getAbout lists the version in use', async () => {
    const res = await xapi.getAbout();
    assert.ok(res.data.version.includes(v2 ? '2.0.0' : '1.0.3'), `about.version: ${res.data.version}`);
  });

  // Statements.
  const first = stmt(learner, 'experienced', {
    objectType: 'Activity',
    id: lesson,
    definition: { name: { 'en-US': 'Lesson 1' }, type: 'http://adlnet.gov/expapi/activities/lesson' },
  }, {
    result: { score: { scaled: 0.8 }, completion: true, duration: 'PT1M30S' },
    context: {
      registration,
      contextActivities: { parent: [{ id: course }] },
      // xAPI 2.0 adds contextAgents; a 2.0 client may send it.
      ...(v2 ? { contextAgents: [{ objectType: 'contextAgent', agent: colleague }] } : {}),
    },
  });
  const firstId = await step('sendStatement stores a statement without an id and returns the id', async () => {
    const res = await xapi.sendStatement({ statement: first });
    assert.equal(res.data.length, 1);
    return res.data[0];
  });

  await step('getStatement returns it as stored', async () => {
    const { data: got } = await xapi.getStatement({ statementId: firstId });
    assert.equal(got.id, firstId);
    assert.deepEqual(got.actor, learner);
    assert.equal(got.verb.id, 'http://adlnet.gov/expapi/verbs/experienced');
    assert.equal(got.object.id, lesson);
    assert.equal(got.result.score.scaled, 0.8);
    assert.equal(got.context.registration, registration);
    if (v2) assert.deepEqual(got.context.contextAgents, [{ objectType: 'contextAgent', agent: colleague }]);
    assert.ok(got.stored && got.timestamp && got.authority, 'the LRS sets stored, timestamp and authority');
    assert.equal(got.version, v2 ? '2.0.0' : '1.0.0');
  });

  const before = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5)); // stored times after `before`
  const givenIds = [uuid(), uuid()];
  const batch = [
    stmt(learner, 'completed', course, { id: givenIds[0] }),
    stmt(learner, 'completed', lesson, { id: givenIds[1], context: { contextActivities: { parent: [{ id: course }] } } }),
    stmt(learner, 'completed', course),
    stmt(colleague, 'completed', course),
    stmt(colleague, 'attempted', lesson),
  ];
  const batchIds = await step('sendStatements stores a batch and returns every id', async () => {
    const { data: ids } = await xapi.sendStatements({ statements: batch });
    assert.equal(ids.length, 5);
    assert.deepEqual(ids.slice(0, 2), givenIds);
    assert.equal(new Set(ids).size, 5);
    return ids;
  });

  await step('getStatements by agent and verb pages with limit and getMoreStatements', async () => {
    let { data: res } = await xapi.getStatements({ agent: learner, verb: 'http://adlnet.gov/expapi/verbs/completed', limit: 2 });
    assert.equal(res.statements.length, 2);
    assert.ok(res.more, 'the first page of 2 out of 3 has a more link');
    const seen = res.statements.map((s) => s.id);
    let pages = 1;
    while (res.more) {
      ({ data: res } = await xapi.getMoreStatements({ more: res.more }));
      seen.push(...res.statements.map((s) => s.id));
      assert.ok(++pages <= 3, 'more links end');
    }
    assert.equal(new Set(seen).size, seen.length, 'no statement on two pages');
    sameIds(seen, batchIds.slice(0, 3));
  });

  await step('getStatements by registration, activity, related_activities, related_agents', async () => {
    sameIds((await xapi.getStatements({ registration })).data.statements.map((s) => s.id), [firstId]);
    sameIds((await xapi.getStatements({ activity: course })).data.statements.map((s) => s.id),
      [batchIds[0], batchIds[2], batchIds[3]]);
    sameIds((await xapi.getStatements({ activity: course, related_activities: true })).data.statements.map((s) => s.id),
      [firstId, ...batchIds.slice(0, 4)]);
    sameIds((await xapi.getStatements({ agent: colleague })).data.statements.map((s) => s.id), batchIds.slice(3));
    if (v2) { // the colleague is also a contextAgent of the first statement
      sameIds((await xapi.getStatements({ agent: colleague, related_agents: true })).data.statements.map((s) => s.id),
        [firstId, ...batchIds.slice(3)]);
    }
  });

  await step('getStatements with since, ascending and format=ids', async () => {
    const { data: res } = await xapi.getStatements({ since: before, ascending: true, format: 'ids' });
    sameIds(res.statements.map((s) => s.id), batchIds);
    const stored = res.statements.map((s) => Date.parse(s.stored));
    assert.deepEqual(stored, [...stored].sort((a, b) => a - b), 'ascending stored order');
    const account = res.statements.find((s) => s.id === batchIds[3]).actor;
    assert.deepEqual(account, { objectType: 'Agent', account: colleague.account }, 'format=ids keeps only the identifier');
  });

  await step('a statement with an attachment (multipart/mixed) round-trips with attachments=true', async () => {
    const content = 'Ada Learner passed the exam — ✓';
    const sha2 = require('node:crypto').createHash('sha256').update(content).digest('hex');
    const statement = stmt(learner, 'passed', 'https://interop.example/xapijs/exam', {
      attachments: [{
        usageType: XAPI.AttachmentUsages.CERTIFICATE_OF_COMPLETION,
        display: { 'en-US': 'Certificate' },
        contentType: 'text/plain',
        length: Buffer.byteLength(content),
        sha2,
      }],
    });
    let ids;
    try {
      ({ data: ids } = await xapi.sendStatement({ statement, attachments: [content] }));
    } catch (err) {
      const body = err.response && err.response.data && err.response.data.error;
      if (adapter !== 'axios' || err.response.status !== 400 || !/Content-Type application\/octet-stream/.test(body.message)) {
        throw err;
      }
      // axios's Node transport sends the library's multipart Blob with the
      // Blob's own type (none: application/octet-stream) in place of the
      // library's multipart/mixed header, and the LRS must refuse that body
      // (xAPI Communication 1.5.2). In a browser the header goes out as set.
      // Send with the fetch transport, and read back with axios below.
      console.log('KNOWN LIBRARY ISSUE: xAPI.js with axios under Node sends attachments as application/octet-stream; ' +
        `the LRS answers 400: ${body.message}`);
      const viaFetch = new XAPI({ endpoint: lrs.endpoint, auth: XAPI.toBasicAuth(lrs.key, lrs.secret), version, adapter: 'fetch' });
      ({ data: ids } = await viaFetch.sendStatement({ statement, attachments: [content] }));
    }
    const { data: parts } = await xapi.getStatement({ statementId: ids[0], attachments: true });
    assert.equal(parts.length, 2, 'the statement and its attachment');
    assert.equal(parts[0].id, ids[0]);
    assert.equal(parts[0].attachments[0].sha2, sha2);
    assert.equal(parts[1], content);
    const { data: result } = await xapi.getStatements({ verb: 'http://adlnet.gov/expapi/verbs/passed', attachments: true });
    assert.equal(result.length, 2, 'the StatementResult and the attachment');
    assert.deepEqual(result[0].statements.map((s) => s.id), ids);
    assert.equal(result[1], content);
  });

  await step('voidStatement, then getVoidedStatement finds it and getStatement does not', async () => {
    await xapi.voidStatement({ actor: learner, statementId: batchIds[4] });
    await rejectsWith(xapi.getStatement({ statementId: batchIds[4] }), 404);
    const { data: got } = await xapi.getVoidedStatement({ voidedStatementId: batchIds[4] });
    assert.equal(got.id, batchIds[4]);
  });

  await step('getActivity and getAgent', async () => {
    const { data: a } = await xapi.getActivity({ activityId: lesson });
    assert.equal(a.id, lesson);
    assert.deepEqual(a.definition.name, { 'en-US': 'Lesson 1' });
    const { data: p } = await xapi.getAgent({ agent: learner });
    assert.equal(p.objectType, 'Person');
    assert.deepEqual(p.mbox, ['mailto:learner@interop.example']);
    assert.deepEqual(p.name, ['Ada Learner']);
  });

  await step('useCacheBuster\'s extra parameter is refused with 400, as xAPI requires (XAPI-00324)', async () => {
    // The option appends cachebuster=<time>; xAPI 1.0.3 Communication 3.2
    // (and 2.0) has the LRS reject a parameter it does not recognise.
    const err = await rejectsWith(xapi.getStatements({ useCacheBuster: true }), 400);
    assert.match(err.response ? JSON.stringify(err.response.data) : err.message, /cachebuster/);
  });

  // State.
  const where = { agent: learner, activityId: course, registration };
  const progress = { chapter: 2, answers: ['a', 'c'] };
  let etag = await step('setState creates a JSON state; getState returns it with its ETag', async () => {
    await xapi.setState({ ...where, stateId: 'progress', state: progress });
    const res = await xapi.getState({ ...where, stateId: 'progress' });
    assert.deepEqual(res.data, progress);
    assert.equal(etagOf(res), `"${sha1(JSON.stringify(progress))}"`);
    return etagOf(res);
  });

  await step(`setState without a precondition over a state: ${v2 ? '409 in 2.0' : 'replaces in 1.0.3'}`, async () => {
    const next = { chapter: 3 };
    if (v2) {
      await rejectsWith(xapi.setState({ ...where, stateId: 'progress', state: next }), 409);
      assert.deepEqual((await xapi.getState({ ...where, stateId: 'progress' })).data, progress);
    } else {
      await xapi.setState({ ...where, stateId: 'progress', state: next });
      assert.deepEqual((await xapi.getState({ ...where, stateId: 'progress' })).data, next);
      await xapi.setState({ ...where, stateId: 'progress', state: progress }); // back, for the steps below
    }
  });

  await step('setState with If-Match replaces; a stale ETag and If-None-Match: * fail with 412', async () => {
    const next = { chapter: 4 };
    await xapi.setState({ ...where, stateId: 'progress', state: next, etag, matchHeader: 'If-Match' });
    await rejectsWith(xapi.setState({ ...where, stateId: 'progress', state: progress, etag, matchHeader: 'If-Match' }), 412);
    await rejectsWith(xapi.setState({ ...where, stateId: 'progress', state: progress, etag: '*', matchHeader: 'If-None-Match' }), 412);
    const res = await xapi.getState({ ...where, stateId: 'progress' });
    assert.deepEqual(res.data, next);
    etag = etagOf(res);
  });

  await step('createState (POST) merges into the JSON state', async () => {
    await xapi.createState({ ...where, stateId: 'progress', state: { score: 7 } });
    assert.deepEqual((await xapi.getState({ ...where, stateId: 'progress' })).data, { chapter: 4, score: 7 });
  });

  await step('setState with a text Content-Type stores text', async () => {
    await xapi.setState({ ...where, stateId: 'bookmark', state: 'page 3', contentType: 'text/plain' });
    const res = await xapi.getState({ ...where, stateId: 'bookmark' });
    assert.equal(res.data, 'page 3');
    const r = await raw('GET', 'activities/state?' + new URLSearchParams({
      activityId: course, agent: JSON.stringify(learner), registration, stateId: 'bookmark',
    }));
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    assert.equal(r.text, 'page 3');
  });

  await step('getStates lists the registration\'s states', async () => {
    await xapi.setState({ agent: learner, activityId: course, registration: uuid(), stateId: 'elsewhere', state: { x: 1 } });
    sameIds((await xapi.getStates(where)).data, ['progress', 'bookmark']);
  });

  await step('deleteState deletes one; deleteStates deletes the rest', async () => {
    await xapi.deleteState({ ...where, stateId: 'bookmark' });
    await rejectsWith(xapi.getState({ ...where, stateId: 'bookmark' }), 404);
    sameIds((await xapi.getStates(where)).data, ['progress']);
    await xapi.deleteStates(where);
    sameIds((await xapi.getStates(where)).data, []);
  });

  // Activity Profile.
  const syllabus = { weeks: 6, topics: ['hazards', 'first aid'] };
  etag = await step('createActivityProfile (POST) creates; getActivityProfile returns it with its ETag', async () => {
    await xapi.createActivityProfile({ activityId: course, profileId: 'syllabus', profile: syllabus });
    const res = await xapi.getActivityProfile({ activityId: course, profileId: 'syllabus' });
    assert.deepEqual(res.data, syllabus);
    assert.equal(etagOf(res), `"${sha1(JSON.stringify(syllabus))}"`);
    return etagOf(res);
  });

  await step('setActivityProfile with If-Match replaces; stale If-Match and If-None-Match: * fail with 412', async () => {
    await xapi.setActivityProfile({ activityId: course, profileId: 'syllabus', profile: { weeks: 8 }, etag, matchHeader: 'If-Match' });
    await rejectsWith(xapi.setActivityProfile({ activityId: course, profileId: 'syllabus', profile: syllabus, etag, matchHeader: 'If-Match' }), 412);
    await rejectsWith(xapi.setActivityProfile({ activityId: course, profileId: 'syllabus', profile: syllabus, etag: '*', matchHeader: 'If-None-Match' }), 412);
    const res = await xapi.getActivityProfile({ activityId: course, profileId: 'syllabus' });
    assert.deepEqual(res.data, { weeks: 8 });
    etag = etagOf(res);
  });

  await step('getActivityProfiles; deleteActivityProfile with a stale ETag fails, with the current one deletes', async () => {
    await xapi.setActivityProfile({ activityId: course, profileId: 'notes', profile: 'plain notes', contentType: 'text/plain', etag: '*', matchHeader: 'If-None-Match' });
    sameIds((await xapi.getActivityProfiles({ activityId: course })).data, ['syllabus', 'notes']);
    await rejectsWith(xapi.deleteActivityProfile({ activityId: course, profileId: 'syllabus', etag: `"${sha1('stale')}"` }), 412);
    await xapi.deleteActivityProfile({ activityId: course, profileId: 'syllabus', etag });
    await rejectsWith(xapi.getActivityProfile({ activityId: course, profileId: 'syllabus' }), 404);
    sameIds((await xapi.getActivityProfiles({ activityId: course })).data, ['notes']);
  });

  // Agent Profile.
  const prefs = { language: 'nb-NO', audio: false };
  etag = await step('createAgentProfile (POST) creates; getAgentProfile returns it', async () => {
    await xapi.createAgentProfile({ agent: learner, profileId: 'preferences', profile: prefs });
    const res = await xapi.getAgentProfile({ agent: learner, profileId: 'preferences' });
    assert.deepEqual(res.data, prefs);
    return etagOf(res);
  });

  await step('createAgentProfile merges; setAgentProfile with If-Match replaces, a stale one fails', async () => {
    await xapi.createAgentProfile({ agent: learner, profileId: 'preferences', profile: { audio: true }, etag, matchHeader: 'If-Match' });
    const merged = await xapi.getAgentProfile({ agent: learner, profileId: 'preferences' });
    assert.deepEqual(merged.data, { language: 'nb-NO', audio: true });
    await rejectsWith(xapi.setAgentProfile({ agent: learner, profileId: 'preferences', profile: prefs, etag, matchHeader: 'If-Match' }), 412);
    await xapi.setAgentProfile({ agent: learner, profileId: 'preferences', profile: prefs, etag: etagOf(merged), matchHeader: 'If-Match' });
    assert.deepEqual((await xapi.getAgentProfile({ agent: learner, profileId: 'preferences' })).data, prefs);
  });

  await step('getAgentProfiles and deleteAgentProfile', async () => {
    await xapi.setAgentProfile({ agent: learner, profileId: 'avatar', profile: 'ascii-art', contentType: 'text/plain', etag: '*', matchHeader: 'If-None-Match' });
    await xapi.createAgentProfile({ agent: colleague, profileId: 'preferences', profile: prefs });
    sameIds((await xapi.getAgentProfiles({ agent: learner })).data, ['preferences', 'avatar']);
    await xapi.deleteAgentProfile({ agent: learner, profileId: 'preferences' });
    await rejectsWith(xapi.getAgentProfile({ agent: learner, profileId: 'preferences' }), 404);
    sameIds((await xapi.getAgentProfiles({ agent: learner })).data, ['avatar']);
    sameIds((await xapi.getAgentProfiles({ agent: colleague })).data, ['preferences']);
  });
});

'use strict';
// TinCanJS (npm tincanjs) against the LRS, through its Node entry
// (build/tincan-node.js, the package's main, which sends requests with the
// xhr2 XMLHttpRequest). XAPI_VERSION picks the version it speaks: 1.0.0,
// 1.0.1 or 1.0.2 (its default).
//
// The LRS object (TinCan.LRS) does Statements, State, Activity Profile and
// Agent Profile the way the library does them: PUT for a statement with an
// id, POST for a batch, If-Match with the ETag it read (lastSHA1), and
// If-None-Match: * on every profile write without one. The TinCan object,
// built from a launch link as content is, sends and reads back with the
// launch's actor, activity and registration.

const TinCan = require('tincanjs');
const { assert, lrs, basicAuth, step, main, rejectsWith, raw, sha1, uuid, sameIds } = require('./harness');

const version = process.env.XAPI_VERSION || TinCan.versions()[0];

const store = new TinCan.LRS({
  endpoint: lrs.endpoint,
  username: lrs.key,
  password: lrs.secret,
  version,
  allowFail: false, // else a failure is reported to the callback as success
});

// call runs an LRS method, whose last argument is the cfg object that takes
// its callback, and settles with what the callback got; an HTTP failure
// becomes an Error with the status and the response body.
function call(method, ...args) {
  return new Promise((resolve, reject) => {
    const cfg = args.pop(); // every call passes its cfg object last
    cfg.callback = (err, result) => {
      if (err === null) {
        resolve(result);
        return;
      }
      const e = new Error(`${method}: HTTP ${err}: ${result && result.responseText}`);
      e.status = err;
      reject(e);
    };
    store[method](...args, cfg);
  });
}

const learner = new TinCan.Agent({ mbox: 'mailto:learner@interop.example', name: 'Ada Learner' });
const colleague = new TinCan.Agent({ account: { homePage: 'https://lms.interop.example', name: 'u-42' }, name: 'Colleague' });
const course = new TinCan.Activity({
  id: 'https://interop.example/tincanjs/course',
  definition: { name: { 'en-US': 'Safety course' }, type: 'http://adlnet.gov/expapi/activities/course' },
});
const lesson = new TinCan.Activity({ id: 'https://interop.example/tincanjs/course/lesson-1' });
const verb = (name) => new TinCan.Verb({ id: `http://adlnet.gov/expapi/verbs/${name}`, display: { 'en-US': name } });
const registration = uuid();

main(async () => {
  console.log(`TinCanJS ${require('tincanjs/package.json').version}, xAPI ${version}`);

  await step('about lists the versions', async () => {
    const about = await call('about', {});
    assert.ok(about.version.includes('1.0.3'), `about.version: ${about.version}`);
  });

  // Statements.
  const first = new TinCan.Statement({
    actor: learner,
    verb: verb('experienced'),
    target: lesson,
    result: { score: { scaled: 0.8, raw: 8, min: 0, max: 10 }, completion: true, duration: 'PT1M30S' },
    context: { registration, contextActivities: { parent: [course] } },
  });
  await step('saveStatement stores one statement (PUT with its id)', async () => {
    await call('saveStatement', first, {});
  });

  await step('retrieveStatement returns it as stored', async () => {
    const got = await call('retrieveStatement', first.id, {});
    assert.equal(got.id, first.id);
    assert.equal(got.actor.mbox, 'mailto:learner@interop.example');
    assert.equal(got.verb.id, 'http://adlnet.gov/expapi/verbs/experienced');
    assert.equal(got.target.id, lesson.id);
    assert.equal(got.result.score.scaled, 0.8);
    assert.equal(got.result.completion, true);
    assert.equal(got.context.registration, registration);
    assert.equal(got.context.contextActivities.parent[0].id, course.id);
    assert.ok(got.stored, 'the LRS sets stored');
    assert.ok(got.authority, 'the LRS sets authority');
    assert.match(got.version, /^1\.0\.\d$/);
  });

  // A batch: two with ids, two for the LRS to name.
  const batch = [
    new TinCan.Statement({ actor: learner, verb: verb('completed'), target: course }),
    new TinCan.Statement({ actor: learner, verb: verb('completed'), target: lesson, context: { contextActivities: { parent: [course] } } }),
    new TinCan.Statement({ actor: learner, verb: verb('completed'), target: course }, { doStamp: false }),
    new TinCan.Statement({ actor: colleague, verb: verb('completed'), target: course }, { doStamp: false }),
  ];
  const batchIds = await step('saveStatements stores a batch (POST) and returns every id', async () => {
    const xhr = await call('saveStatements', batch, {});
    const ids = JSON.parse(xhr.responseText);
    assert.equal(ids.length, 4);
    assert.equal(ids[0], batch[0].id);
    assert.equal(ids[1], batch[1].id);
    for (const id of ids.slice(2)) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    return ids;
  });

  await step('queryStatements by agent and verb pages with limit and moreStatements', async () => {
    const seen = [];
    let res = await call('queryStatements', { params: { agent: learner, verb: verb('completed'), limit: 2 } });
    assert.equal(res.statements.length, 2);
    assert.ok(res.more, 'a first page of 2 out of 3 has a more link');
    seen.push(...res.statements.map((s) => s.id));
    let pages = 1;
    while (res.more) {
      res = await call('moreStatements', { url: res.more });
      seen.push(...res.statements.map((s) => s.id));
      assert.ok(++pages <= 3, 'more links end');
    }
    assert.equal(new Set(seen).size, seen.length, 'no statement on two pages');
    sameIds(seen, batchIds.slice(0, 3), 'the learner\'s completed statements, and no other');
  });

  await step('queryStatements by registration', async () => {
    const res = await call('queryStatements', { params: { registration } });
    sameIds(res.statements.map((s) => s.id), [first.id]);
  });

  await step('queryStatements by activity, with and without related_activities', async () => {
    const direct = await call('queryStatements', { params: { activity: course } });
    sameIds(direct.statements.map((s) => s.id), [batchIds[0], batchIds[2], batchIds[3]]);
    const related = await call('queryStatements', { params: { activity: course, related_activities: true } });
    sameIds(related.statements.map((s) => s.id), [first.id, ...batchIds]);
  });

  await step('queryStatements by an account agent, ascending', async () => {
    const res = await call('queryStatements', { params: { agent: colleague, ascending: true } });
    sameIds(res.statements.map((s) => s.id), [batchIds[3]]);
    assert.equal(res.statements[0].actor.account.name, 'u-42');
  });

  await step('a statement with an attachment (multipart/mixed) round-trips with attachments=true', async () => {
    const certificate = new TinCan.Statement({
      actor: learner,
      verb: verb('passed'),
      target: { id: 'https://interop.example/tincanjs/exam' },
      attachments: [{
        usageType: 'http://id.tincanapi.com/attachment/certificate-of-completion',
        display: { 'en-US': 'Certificate' },
        contentType: 'text/plain',
        content: 'Ada Learner passed the exam — ✓',
      }],
    });
    await call('saveStatement', certificate, {});
    const text = 'Ada Learner passed the exam — ✓';
    const got = await call('retrieveStatement', certificate.id, { params: { attachments: true } });
    assert.equal(got.id, certificate.id);
    assert.equal(got.attachments.length, 1);
    assert.equal(got.attachments[0].sha2, certificate.attachments[0].sha2);
    const res = await call('queryStatements', { params: { verb: verb('passed'), attachments: true } });
    assert.equal(res.statements.length, 1);
    assert.equal(got.attachments[0].getContentAsString(), text);
    assert.equal(res.statements[0].attachments[0].getContentAsString(), text);
  });

  await step('a voided statement is found only as voided', async () => {
    const voiding = new TinCan.Statement({ actor: learner, verb: verb('voided'), target: { objectType: 'StatementRef', id: batchIds[2] } });
    await call('saveStatement', voiding, {});
    await rejectsWith(call('retrieveStatement', batchIds[2], {}), 404);
    const got = await call('retrieveVoidedStatement', batchIds[2], {});
    assert.equal(got.id, batchIds[2]);
  });

  await step('retrieveActivity returns the definition statements gave', async () => {
    const a = await call('retrieveActivity', course.id, {});
    assert.equal(a.id, course.id);
    assert.equal(a.definition.name['en-US'], 'Safety course');
  });

  // State.
  const doc = { agent: learner, activity: course, registration };
  await step('saveState and retrieveState of a text document', async () => {
    await call('saveState', 'bookmark', 'page 3', { ...doc, contentType: 'text/plain' });
    const st = await call('retrieveState', 'bookmark', { ...doc });
    assert.equal(st.contents, 'page 3');
    assert.equal(st.etag, `"${sha1('page 3')}"`, 'the ETag is the quoted SHA-1 of the content');
    assert.match(st.contentType, /^text\/plain/);
  });

  let progress = { chapter: 2, answers: ['a', 'c'] };
  let etag = await step('saveState and retrieveState of a JSON document', async () => {
    await call('saveState', 'progress', progress, { ...doc, contentType: 'application/json' });
    const st = await call('retrieveState', 'progress', { ...doc });
    assert.deepEqual(st.contents, progress);
    return st.etag;
  });

  await step('saveState with lastSHA1 (If-Match) replaces; with a stale one fails with 412', async () => {
    const next = { chapter: 3, answers: ['a', 'c', 'b'] };
    await call('saveState', 'progress', next, { ...doc, contentType: 'application/json', lastSHA1: etag });
    await rejectsWith(call('saveState', 'progress', { chapter: 0 }, { ...doc, contentType: 'application/json', lastSHA1: etag }), 412);
    const st = await call('retrieveState', 'progress', { ...doc });
    assert.deepEqual(st.contents, next);
    progress = next;
    etag = st.etag;
  });

  await step('saveState with method POST merges JSON', async () => {
    await call('saveState', 'progress', { score: 7 }, { ...doc, contentType: 'application/json', method: 'POST' });
    const st = await call('retrieveState', 'progress', { ...doc });
    assert.deepEqual(st.contents, { ...progress, score: 7 });
  });

  await step('retrieveStateIds lists the registration\'s states', async () => {
    await call('saveState', 'other-registration', 'x', { agent: learner, activity: course, registration: uuid(), contentType: 'text/plain' });
    const ids = await call('retrieveStateIds', { ...doc });
    sameIds(ids, ['bookmark', 'progress']);
  });

  await step('dropState deletes one state, then all of the registration', async () => {
    await call('dropState', 'bookmark', { ...doc });
    assert.equal(await call('retrieveState', 'bookmark', { ...doc }), null, 'a deleted state reads as none (404)');
    sameIds(await call('retrieveStateIds', { ...doc }), ['progress']);
    await call('dropState', null, { ...doc });
    sameIds(await call('retrieveStateIds', { ...doc }), []);
  });

  // Activity Profile.
  const syllabus = { weeks: 6, topics: ['hazards', 'first aid'] };
  await step('saveActivityProfile creates (If-None-Match: *); a second create fails with 412', async () => {
    await call('saveActivityProfile', 'syllabus', syllabus, { activity: course, contentType: 'application/json' });
    await rejectsWith(call('saveActivityProfile', 'syllabus', { weeks: 0 }, { activity: course, contentType: 'application/json' }), 412);
  });

  etag = await step('retrieveActivityProfile returns the document and its ETag', async () => {
    const p = await call('retrieveActivityProfile', 'syllabus', { activity: course });
    assert.deepEqual(p.contents, syllabus);
    assert.equal(p.etag, `"${sha1(JSON.stringify(syllabus))}"`);
    return p.etag;
  });

  await step('saveActivityProfile with lastSHA1 replaces; a stale ETag fails with 412', async () => {
    await call('saveActivityProfile', 'syllabus', { weeks: 8 }, { activity: course, contentType: 'application/json', lastSHA1: etag });
    await rejectsWith(call('saveActivityProfile', 'syllabus', { weeks: 9 }, { activity: course, contentType: 'application/json', lastSHA1: etag }), 412);
    const p = await call('retrieveActivityProfile', 'syllabus', { activity: course });
    assert.deepEqual(p.contents, { weeks: 8 });
  });

  await step('retrieveActivityProfileIds and dropActivityProfile', async () => {
    await call('saveActivityProfile', 'notes', 'plain notes', { activity: course, contentType: 'text/plain' });
    sameIds(await call('retrieveActivityProfileIds', { activity: course }), ['syllabus', 'notes']);
    await call('dropActivityProfile', 'syllabus', { activity: course });
    assert.equal(await call('retrieveActivityProfile', 'syllabus', { activity: course }), null);
    sameIds(await call('retrieveActivityProfileIds', { activity: course }), ['notes']);
  });

  // Agent Profile.
  const prefs = { language: 'nb-NO', audio: false };
  await step('saveAgentProfile creates; a second create fails with 412', async () => {
    await call('saveAgentProfile', 'preferences', prefs, { agent: learner, contentType: 'application/json' });
    await rejectsWith(call('saveAgentProfile', 'preferences', prefs, { agent: learner, contentType: 'application/json' }), 412);
  });

  await step('retrieveAgentProfile, saveAgentProfile with lastSHA1, and a stale ETag', async () => {
    const p = await call('retrieveAgentProfile', 'preferences', { agent: learner });
    assert.deepEqual(p.contents, prefs);
    await call('saveAgentProfile', 'preferences', { ...prefs, audio: true }, { agent: learner, contentType: 'application/json', lastSHA1: p.etag });
    await rejectsWith(call('saveAgentProfile', 'preferences', prefs, { agent: learner, contentType: 'application/json', lastSHA1: p.etag }), 412);
    const q = await call('retrieveAgentProfile', 'preferences', { agent: learner });
    assert.deepEqual(q.contents, { ...prefs, audio: true });
  });

  await step('retrieveAgentProfileIds and dropAgentProfile', async () => {
    await call('saveAgentProfile', 'avatar', 'ascii-art', { agent: learner, contentType: 'text/plain' });
    await call('saveAgentProfile', 'preferences', prefs, { agent: colleague, contentType: 'application/json' });
    sameIds(await call('retrieveAgentProfileIds', { agent: learner }), ['preferences', 'avatar']);
    await call('dropAgentProfile', 'preferences', { agent: learner });
    assert.equal(await call('retrieveAgentProfile', 'preferences', { agent: learner }), null);
    sameIds(await call('retrieveAgentProfileIds', { agent: learner }), ['avatar']);
    sameIds(await call('retrieveAgentProfileIds', { agent: colleague }), ['preferences']);
  });

  // The TinCan object of launched content.
  const launchRegistration = uuid();
  const launchURL = 'https://content.interop.example/index.html?' + new URLSearchParams({
    endpoint: lrs.endpoint,
    auth: basicAuth(lrs.key, lrs.secret),
    actor: JSON.stringify({ name: ['Ada Learner'], mbox: ['mailto:learner@interop.example'] }),
    registration: launchRegistration,
    activity_id: 'https://interop.example/tincanjs/launched',
  });
  const tincan = new TinCan({ url: launchURL });
  const promised = (fn) => new Promise((resolve, reject) => fn((err, res) => (err === null ? resolve(res) : reject(new Error(`HTTP ${err}`)))));

  await step('launched content sends with the launch\'s actor, activity and registration', async () => {
    const sent = await new Promise((resolve, reject) => tincan.sendStatement({ verb: verb('attempted') }, (results, stmt) => {
      if (results[0].err !== null) reject(new Error(`HTTP ${results[0].err}: ${results[0].xhr.responseText}`));
      else resolve(stmt);
    }));
    const res = await promised((cb) => tincan.getStatements({ sendActor: true, sendActivity: true, callback: cb }));
    assert.equal(res.statements.length, 1);
    const got = res.statements[0];
    assert.equal(got.id, sent.id);
    assert.equal(got.actor.mbox, 'mailto:learner@interop.example');
    assert.equal(got.target.id, 'https://interop.example/tincanjs/launched');
    assert.equal(got.context.registration, launchRegistration);
  });

  await step('launched content keeps and reads its State', async () => {
    await promised((cb) => tincan.setState('suspend', { location: 'slide-9' }, { contentType: 'application/json', callback: cb }));
    const st = await promised((cb) => tincan.getState('suspend', { callback: cb }));
    assert.deepEqual(st.contents, { location: 'slide-9' });
    // The LRS filed it under the launch's registration.
    const r = await raw('GET', 'activities/state?' + new URLSearchParams({
      activityId: 'https://interop.example/tincanjs/launched',
      agent: JSON.stringify({ mbox: 'mailto:learner@interop.example' }),
      registration: launchRegistration,
    }));
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, ['suspend']);
  });
});

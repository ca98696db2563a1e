'use strict';
// The cmi5 AU client (npm @xapi/cmi5, the most used published cmi5
// JavaScript client) against the LRS, in the launch flow of cmi5 (Quartz):
//
//   LMS: sends "launched", writes the LMS.LaunchData State document and the
//        cmi5LearnerPreferences Agent Profile, serves the one-time fetch URL
//        that hands the AU its credential, and launches the AU with
//        ?endpoint&fetch&actor&registration&activityId.
//   AU:  reads its launch parameters from the URL, gets its token from the
//        fetch URL, reads LMS.LaunchData and the learner preferences, and
//        sends initialized, progressed, completed, passed and terminated
//        with the LMS's context template.
//   LMS: reads the registration's statements back and checks each.
//
// The package is built for browsers: it has no Node entry (only an ES
// module without "type": "module", and a UMD build), and its bundled axios
// has no Node transport. The script loads the UMD build with require and
// gives it what a browser page has: window.location (the launch URL) and
// XMLHttpRequest (the xhr2 package, which TinCanJS also uses). The library
// itself runs unchanged. The LMS side uses xAPI.js.

const http = require('node:http');
const XAPI = require('@xapi/xapi');
const { assert, lrs, step, main, uuid, sameIds } = require('./harness');

globalThis.XMLHttpRequest = require('xhr2');
const Cmi5 = require('@xapi/cmi5/dist/Cmi5.umd.js');

const CMI5 = 'https://w3id.org/xapi/cmi5/context/categories/cmi5';
const MOVEON = 'https://w3id.org/xapi/cmi5/context/categories/moveon';
const SESSION = 'https://w3id.org/xapi/cmi5/context/extensions/sessionid';
const MASTERY = 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore';
const verbs = {
  launched: 'http://adlnet.gov/expapi/verbs/launched',
  initialized: 'http://adlnet.gov/expapi/verbs/initialized',
  progressed: 'http://adlnet.gov/expapi/verbs/progressed',
  completed: 'http://adlnet.gov/expapi/verbs/completed',
  passed: 'http://adlnet.gov/expapi/verbs/passed',
  terminated: 'http://adlnet.gov/expapi/verbs/terminated',
};

const lms = new XAPI({ endpoint: lrs.endpoint, auth: XAPI.toBasicAuth(lrs.key, lrs.secret), version: '1.0.3' });

const actor = { objectType: 'Agent', account: { homePage: 'https://lms.interop.example', name: 'learner-7' }, name: 'Ada Learner' };
const courseId = 'https://interop.example/cmi5/course';
const auId = 'https://interop.example/cmi5/course/au-1';
const registration = uuid();
const sessionId = uuid();

const launchData = {
  contextTemplate: {
    contextActivities: { grouping: [{ objectType: 'Activity', id: courseId }] },
    extensions: { [SESSION]: sessionId },
  },
  launchMode: 'Normal',
  launchMethod: 'AnyWindow',
  launchParameters: '{"level":2}',
  masteryScore: 0.7,
  moveOn: 'CompletedAndPassed',
  returnURL: 'https://lms.interop.example/return',
};
const preferences = { languagePreference: 'nb-NO,en-US', audioPreference: 'off' };

// fetchServer is the LMS's fetch URL: the first POST gets the AU's
// credential as an auth-token, as cmi5 section 8.2 has it; later ones get a
// cmi5 error (the token is single-use).
function fetchServer() {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    res.setHeader('Content-Type', 'application/json');
    if (req.method !== 'POST' || calls > 1) {
      res.end(JSON.stringify({ 'error-code': '1', 'error-text': 'already in use' }));
      return;
    }
    res.end(JSON.stringify({ 'auth-token': Buffer.from(`${lrs.auKey}:${lrs.auSecret}`).toString('base64') }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/fetch/${uuid()}`,
    calls: () => calls,
    close: () => server.close(),
  })));
}

main(async () => {
  console.log(`@xapi/cmi5 ${require('@xapi/cmi5/package.json').version} (LMS side: xAPI.js), xAPI 1.0.3`);

  await step('LMS sends launched with the context template', async () => {
    await lms.sendStatement({
      statement: {
        actor,
        verb: { id: verbs.launched, display: { 'en-US': 'launched' } },
        object: { objectType: 'Activity', id: auId },
        context: {
          registration,
          contextActivities: { ...launchData.contextTemplate.contextActivities, category: [{ id: CMI5 }] },
          extensions: {
            [SESSION]: sessionId,
            'https://w3id.org/xapi/cmi5/context/extensions/launchmode': 'Normal',
            'https://w3id.org/xapi/cmi5/context/extensions/launchurl': 'https://content.interop.example/au-1/index.html',
            'https://w3id.org/xapi/cmi5/context/extensions/moveon': 'CompletedAndPassed',
            'https://w3id.org/xapi/cmi5/context/extensions/launchparameters': '{"level":2}',
          },
        },
      },
    });
  });

  await step('LMS writes LMS.LaunchData and cmi5LearnerPreferences', async () => {
    await lms.setState({ agent: actor, activityId: auId, registration, stateId: 'LMS.LaunchData', state: launchData, etag: '*', matchHeader: 'If-None-Match' });
    await lms.setAgentProfile({ agent: actor, profileId: 'cmi5LearnerPreferences', profile: preferences, etag: '*', matchHeader: 'If-None-Match' });
  });

  const fetchURL = await fetchServer();
  const cmi5 = await step('the AU finds its launch parameters in the launch URL', async () => {
    globalThis.window = {
      location: {
        search: '?' + new URLSearchParams({
          endpoint: lrs.endpoint,
          fetch: fetchURL.url,
          actor: JSON.stringify(actor),
          registration,
          activityId: auId,
        }),
      },
    };
    assert.equal(Cmi5.isCmiAvailable, true);
    const au = new Cmi5();
    assert.deepEqual(au.getLaunchParameters().actor, actor);
    return au;
  });

  await step('initialize: token from the fetch URL, LMS.LaunchData and preferences from the LRS, initialized sent', async () => {
    await cmi5.initialize();
    assert.equal(fetchURL.calls(), 1, 'the fetch URL is used once');
    fetchURL.close();
    assert.equal(cmi5.isAuthenticated, true);
    assert.deepEqual(cmi5.getLaunchData(), launchData);
    assert.deepEqual(cmi5.getLearnerPreferences(), preferences);
  });

  await step('the AU sends progressed, completed, passed and terminated', async () => {
    await cmi5.progress(50);
    await cmi5.complete();
    await cmi5.pass({ scaled: 0.9, raw: 9, min: 0, max: 10 });
    await cmi5.terminate();
  });

  const stmts = await step('LMS reads the registration: launched, then the AU\'s five, in order', async () => {
    const { data } = await lms.getStatements({ registration, ascending: true });
    assert.equal(data.more, '');
    assert.deepEqual(data.statements.map((s) => s.verb.id),
      [verbs.launched, verbs.initialized, verbs.progressed, verbs.completed, verbs.passed, verbs.terminated]);
    return data.statements;
  });

  await step('every AU statement carries the cmi5 context template', async () => {
    for (const s of stmts.slice(1)) {
      const what = s.verb.id;
      assert.deepEqual(s.actor, actor, what);
      assert.equal(s.object.id, auId, what);
      assert.equal(s.context.registration, registration, what);
      assert.equal(s.context.extensions[SESSION], sessionId, what);
      assert.deepEqual(s.context.contextActivities.grouping.map((a) => a.id), [courseId], what);
      assert.equal(s.authority.account.name, lrs.auKey, `${what}: the authority is the AU's credential`);
      const categories = (s.context.contextActivities.category || []).map((a) => a.id);
      if (what === verbs.progressed) {
        assert.equal(s.result.extensions['https://w3id.org/xapi/cmi5/result/extensions/progress'], 50);
        continue; // not a cmi5 defined statement: no cmi5 category
      }
      assert.ok(categories.includes(CMI5), `${what}: the cmi5 category`);
      if (what === verbs.completed || what === verbs.passed) {
        assert.ok(categories.includes(MOVEON), `${what}: the moveon category`);
        assert.match(s.result.duration, /^P/, what);
      }
    }
    assert.equal(stmts[0].authority.account.name, lrs.key, 'launched is the LMS\'s');
    const [completed, passed, terminated] = stmts.slice(3);
    assert.equal(completed.result.completion, true);
    assert.equal(passed.result.success, true);
    assert.deepEqual(passed.result.score, { scaled: 0.9, raw: 9, min: 0, max: 10 });
    assert.equal(passed.context.extensions[MASTERY], 0.7);
    assert.match(terminated.result.duration, /^P/);
  });

  await step('the LMS filters the registration by verb and by the learner', async () => {
    const passedOnly = await lms.getStatements({ registration, verb: verbs.passed });
    sameIds(passedOnly.data.statements.map((s) => s.id), [stmts[4].id]);
    const byActor = await lms.getStatements({ agent: actor, limit: 4 });
    assert.equal(byActor.data.statements.length, 4);
    const more = await lms.getMoreStatements({ more: byActor.data.more });
    sameIds([...byActor.data.statements, ...more.data.statements].map((s) => s.id), stmts.map((s) => s.id));
  });

  await step('the AU\'s token reads only its own statements (statements/read/mine)', async () => {
    const { data } = await cmi5.xapi.getStatements({ registration });
    sameIds(data.statements.map((s) => s.id), stmts.slice(1).map((s) => s.id));
  });

  await step('the AU keeps its own State; the LMS reads it', async () => {
    await cmi5.xapi.setState({ agent: actor, activityId: auId, registration, stateId: 'suspendData', state: { slide: 12 } });
    const { data } = await lms.getState({ agent: actor, activityId: auId, registration, stateId: 'suspendData' });
    assert.deepEqual(data, { slide: 12 });
    sameIds((await lms.getStates({ agent: actor, activityId: auId, registration })).data, ['LMS.LaunchData', 'suspendData']);
  });
});

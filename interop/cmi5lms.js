'use strict';
// The cmi5 AU client (npm @xapi/cmi5) launched by the LRS itself as the
// LMS (POST /api/v1/launches, package launch): interop_test.go imports the
// project's cmi5 test course, asks for a launch link of its first AU and
// opens it, and hands this script the URL the link redirects to. The
// library then does what an AU does: it finds its five launch parameters,
// gets its auth-token from the LRS's one-time fetch URL, reads
// LMS.LaunchData and the learner's preferences, and sends completed,
// passed and terminated with the context template. The LMS side (an
// all-scoped credential) reads what the LRS recorded.

const XAPI = require('@xapi/xapi');
const { assert, lrs, step, main, rejectsWith } = require('./harness');

globalThis.XMLHttpRequest = require('xhr2');
const Cmi5 = require('@xapi/cmi5/dist/Cmi5.umd.js');

const launchURL = new URL(process.env.CMI5_LAUNCH_URL || '');
const auPublisherId = 'https://lrs.example/kurs/beredskap/au/1';
const verb = (v) => `http://adlnet.gov/expapi/verbs/${v}`;
const lms = new XAPI({ endpoint: lrs.endpoint, auth: XAPI.toBasicAuth(lrs.key, lrs.secret), version: '1.0.3' });

main(async () => {
  console.log(`@xapi/cmi5 ${require('@xapi/cmi5/package.json').version} launched by the LRS as the LMS`);

  const au = await step('the AU finds the five launch parameters in the URL the LRS launched it with', async () => {
    globalThis.window = { location: { search: launchURL.search } };
    assert.equal(Cmi5.isCmiAvailable, true);
    const cmi5 = new Cmi5();
    const p = cmi5.getLaunchParameters();
    assert.equal(p.endpoint, lrs.endpoint);
    assert.notEqual(p.activityId, auPublisherId, 'the activityId is the LMS\'s, not the publisher\'s');
    assert.ok(p.actor.account, 'the actor has an account');
    return cmi5;
  });

  await step('initialize: the auth-token from the fetch URL, LMS.LaunchData and the preferences, initialized sent', async () => {
    await au.initialize();
    assert.equal(au.isAuthenticated, true);
    const ld = au.getLaunchData();
    assert.equal(ld.launchMode, 'Normal');
    assert.equal(ld.moveOn, 'CompletedAndPassed');
    assert.equal(ld.masteryScore, 0.75);
    assert.deepEqual(ld.contextTemplate.contextActivities.grouping.map((a) => a.id), [auPublisherId]);
    assert.equal(typeof au.getLearnerPreferences().languagePreference, 'string');
  });

  await step('the fetch URL answers once: error 1 after', async () => {
    const res = await fetch(au.getLaunchParameters().fetch, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal((await res.json())['error-code'], '1');
  });

  await step('the AU completes, passes and terminates', async () => {
    await au.complete();
    await au.pass(0.9);
    await au.terminate();
  });

  await step('the auth-token writes for its learner only', async () => {
    const other = { objectType: 'Agent', account: { homePage: 'https://portal.example', name: 'ola' } };
    await rejectsWith(au.xapi.sendStatement({ statement: {
      actor: other, verb: { id: verb('experienced') }, object: { objectType: 'Activity', id: au.getLaunchParameters().activityId },
      context: { registration: au.getLaunchParameters().registration } } }), 403);
  });

  await step('the LMS reads the registration: launched by the LRS, then the AU\'s statements, in order', async () => {
    const { registration } = au.getLaunchParameters();
    const { data } = await lms.getStatements({ registration, ascending: true });
    assert.deepEqual(data.statements.map((s) => s.verb.id),
      [verb('launched'), verb('initialized'), verb('completed'), verb('passed'), verb('terminated')]);
    const session = data.statements[0].context.extensions['https://w3id.org/xapi/cmi5/context/extensions/sessionid'];
    for (const s of data.statements) {
      assert.equal(s.context.extensions['https://w3id.org/xapi/cmi5/context/extensions/sessionid'], session, s.verb.id);
    }
  });
});

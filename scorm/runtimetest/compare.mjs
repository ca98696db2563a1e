// Runs the same SCORM 1.2 and 2004 call sequences through the LRS's
// runtime (../runtime/scorm.js) and through scorm-again, call by call, and
// prints, as JSON on stdout, each call's return value and GetLastError
// code in both, and the bodies each committed. runtime_test.go judges the
// output. Run it through `go test ./scorm/runtimetest`.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ours = require('../runtime/scorm.js');

// scorm-again's commits: a synchronous XMLHttpRequest (LMSCommit/Commit)
// or navigator.sendBeacon (the terminating commit). These shims record the
// body and answer as the scenario says.
let commitOK = true;
let theirCommits = [];
globalThis.window = globalThis;
globalThis.XMLHttpRequest = class {
  open() {}
  setRequestHeader() {}
  send(body) {
    theirCommits.push(JSON.parse(body));
    this.status = commitOK ? 200 : 500;
    this.responseText = commitOK ? '{"result":"true","errorCode":0}' : '{"error":{}}';
  }
};
globalThis.Blob = class {
  constructor(parts) { this.text = parts.join(''); }
};
Object.defineProperty(globalThis, 'navigator', {
  value: {
    sendBeacon(url, blob) {
      theirCommits.push(JSON.parse(blob.text));
      return commitOK;
    },
  },
  configurable: true,
});

const { Scorm12API } = await import('scorm-again/scorm12');
const { Scorm2004API } = await import('scorm-again/scorm2004');

// theirInit is an init object as scorm-again's loadFromJSON takes it.
function theirInit(init) {
  if (init.version === '1.2') {
    const core = { student_id: init.learnerId || '', student_name: init.learnerName || '', entry: init.entry || '' };
    if (init.location) core.lesson_location = init.location;
    if (init.totalTime) core.total_time = init.totalTime;
    if (init.credit) core.credit = init.credit;
    const cmi = { core };
    if (init.suspendData) cmi.suspend_data = init.suspendData;
    if (init.launchData) cmi.launch_data = init.launchData;
    if (init.masteryScore) cmi.student_data = { mastery_score: init.masteryScore };
    return { cmi };
  }
  const cmi = { learner_id: init.learnerId || '', learner_name: init.learnerName || '', entry: init.entry || '' };
  if (init.location) cmi.location = init.location;
  if (init.suspendData) cmi.suspend_data = init.suspendData;
  if (init.launchData) cmi.launch_data = init.launchData;
  if (init.scaledPassingScore) cmi.scaled_passing_score = init.scaledPassingScore;
  if (init.completionThreshold) cmi.completion_threshold = init.completionThreshold;
  if (init.totalTime) cmi.total_time = init.totalTime;
  if (init.credit) cmi.credit = init.credit;
  return { cmi };
}

// Names of the calls in both editions.
const names = {
  '1.2': { init: 'LMSInitialize', term: 'LMSFinish', get: 'LMSGetValue', set: 'LMSSetValue', commit: 'LMSCommit', err: 'LMSGetLastError' },
  2004: { init: 'Initialize', term: 'Terminate', get: 'GetValue', set: 'SetValue', commit: 'Commit', err: 'GetLastError' },
};

// A scenario is an init and a list of calls: [op, args...] with op one of
// init, term, get, set, commit; "fail" / "ok" switch the LMS's answer to
// commits.
const S12 = { version: '1.2', learnerId: 'ann', learnerName: 'Doe, Ann', entry: 'ab-initio' };
const S04 = { version: '2004', learnerId: 'ann', learnerName: 'Ann Doe', entry: 'ab-initio' };

const scenarios = [
  {
    name: '1.2 good session', init: { ...S12, masteryScore: '80', launchData: 'ld' }, calls: [
      ['init', ''], ['get', 'cmi.core.student_id'], ['get', 'cmi.core.student_name'], ['get', 'cmi.core.entry'],
      ['get', 'cmi.core.lesson_status'], ['get', 'cmi.core.credit'], ['get', 'cmi.core.lesson_mode'], ['get', 'cmi.launch_data'],
      ['get', 'cmi.student_data.mastery_score'], ['get', 'cmi._children'], ['get', 'cmi.core._children'], ['get', 'cmi.core.score._children'],
      ['get', 'cmi.interactions._children'], ['get', 'cmi.objectives._children'], ['get', 'cmi.student_data._children'],
      ['get', 'cmi.student_preference._children'], ['get', 'cmi.interactions._count'], ['get', 'cmi.objectives._count'],
      ['set', 'cmi.core.lesson_location', 'page-3'], ['get', 'cmi.core.lesson_location'],
      ['set', 'cmi.suspend_data', 'a=1;b=2'], ['get', 'cmi.suspend_data'],
      ['set', 'cmi.core.score.raw', '85'], ['set', 'cmi.core.score.min', '0'], ['set', 'cmi.core.score.max', '100'],
      ['get', 'cmi.core.score.raw'],
      ['set', 'cmi.interactions.0.id', 'q1'], ['set', 'cmi.interactions.0.type', 'choice'],
      ['set', 'cmi.interactions.0.student_response', 'a'], ['set', 'cmi.interactions.0.result', 'correct'],
      ['set', 'cmi.interactions.0.correct_responses.0.pattern', 'a'], ['set', 'cmi.interactions.0.latency', '00:00:05'],
      ['set', 'cmi.interactions.0.time', '10:11:12'], ['set', 'cmi.interactions.0.weighting', '1'],
      ['set', 'cmi.interactions.0.objectives.0.id', 'obj1'], ['get', 'cmi.interactions._count'],
      ['get', 'cmi.interactions.0.objectives._count'], ['get', 'cmi.interactions.0.correct_responses._count'],
      ['set', 'cmi.objectives.0.id', 'obj1'], ['set', 'cmi.objectives.0.status', 'passed'], ['set', 'cmi.objectives.0.score.raw', '90'],
      ['get', 'cmi.objectives.0.id'], ['get', 'cmi.objectives.0.status'], ['get', 'cmi.objectives._count'],
      ['set', 'cmi.student_preference.audio', '50'], ['set', 'cmi.student_preference.speed', '-20'], ['set', 'cmi.student_preference.text', '1'],
      ['set', 'cmi.student_preference.language', 'nb'], ['get', 'cmi.student_preference.audio'],
      ['set', 'cmi.comments', 'Nice'], ['get', 'cmi.comments'],
      ['set', 'cmi.core.lesson_status', 'passed'], ['get', 'cmi.core.lesson_status'],
      ['set', 'cmi.core.session_time', '00:10:30'], ['set', 'cmi.core.exit', ''],
      ['commit', ''], ['term', ''],
    ],
  },
  {
    name: '1.2 bad calls', init: S12, calls: [
      ['get', 'cmi.core.student_id'], ['set', 'cmi.core.lesson_location', 'x'], ['commit', ''], ['term', ''],
      ['init', 'x'], ['init', ''], ['init', ''],
      ['get', ''], ['get', 'cmi.core.nothing'], ['get', 'cmi.nothing'], ['set', 'cmi.nothing', 'x'],
      ['get', 'cmi.core.student_id._children'], ['get', 'cmi.core._count'], ['get', 'cmi.core.lesson_status._count'],
      ['set', 'cmi.core._children', 'x'], ['set', 'cmi.interactions._count', '3'], ['set', 'cmi._children', 'x'],
      ['set', 'cmi.core.student_id', 'bob'], ['set', 'cmi.core.credit', 'no-credit'], ['set', 'cmi.core.entry', 'resume'],
      ['set', 'cmi.core.total_time', '0000:01:00'], ['set', 'cmi.launch_data', 'x'], ['set', 'cmi.comments_from_lms', 'x'],
      ['set', 'cmi.student_data.mastery_score', '50'],
      ['get', 'cmi.core.exit'], ['get', 'cmi.core.session_time'],
      ['set', 'cmi.core.lesson_status', 'done'], ['set', 'cmi.core.lesson_status', 'not attempted'], ['set', 'cmi.core.lesson_status', 'Passed'],
      ['set', 'cmi.core.score.raw', 'abc'], ['set', 'cmi.core.score.raw', '101'], ['set', 'cmi.core.score.raw', '-1'],
      ['set', 'cmi.core.session_time', 'PT1M'], ['set', 'cmi.core.session_time', '1:00:00'], ['set', 'cmi.core.session_time', '00:61:00'],
      ['set', 'cmi.core.exit', 'normal'], ['set', 'cmi.core.exit', 'quit'],
      ['set', 'cmi.core.lesson_location', 'x'.repeat(256)], ['set', 'cmi.suspend_data', 'y'.repeat(4097)],
      ['set', 'cmi.student_preference.audio', '101'], ['set', 'cmi.student_preference.text', '2'], ['set', 'cmi.student_preference.speed', 'fast'],
      ['set', 'cmi.interactions.1.id', 'q2'], ['set', 'cmi.interactions.0.id', 'q1'], ['get', 'cmi.interactions.0.id'],
      ['set', 'cmi.interactions.0.type', 'essay'], ['set', 'cmi.interactions.0.result', 'maybe'],
      ['set', 'cmi.interactions.0.latency', 'PT5S'], ['set', 'cmi.interactions.0.time', '25:00:00'],
      ['set', 'cmi.interactions.0.correct_responses.1.pattern', 'a'], ['set', 'cmi.interactions.2.id', 'q3'],
      ['set', 'cmi.objectives.0.status', 'done'], ['set', 'cmi.objectives.0.id', 'has space'], ['set', 'cmi.objectives.5.id', 'o5'],
      ['commit', 'x'], ['term', 'x'], ['term', ''], ['get', 'cmi.core.student_id'], ['set', 'cmi.core.lesson_location', 'y'],
      ['commit', ''], ['init', ''],
    ],
  },
  {
    name: '1.2 resume and suspend', init: { ...S12, entry: 'resume', suspendData: 'saved', location: 'p9', totalTime: '0001:00:00' }, calls: [
      ['init', ''], ['get', 'cmi.core.entry'], ['get', 'cmi.suspend_data'], ['get', 'cmi.core.lesson_location'], ['get', 'cmi.core.total_time'],
      ['set', 'cmi.core.exit', 'suspend'], ['set', 'cmi.core.session_time', '00:30:00'], ['set', 'cmi.suspend_data', 'saved2'],
      ['term', ''],
    ],
  },
  {
    name: '1.2 failed commit', init: S12, calls: [
      ['init', ''], ['set', 'cmi.core.lesson_status', 'completed'], ['fail'], ['commit', ''], ['get', 'cmi.core.lesson_status'],
      ['term', ''], ['ok'], ['commit', ''], ['term', ''],
    ],
  },
  {
    name: '2004 good session', init: { ...S04, launchData: 'ld', completionThreshold: '0.8' }, calls: [
      ['init', ''], ['get', 'cmi._version'], ['get', 'cmi.learner_id'], ['get', 'cmi.learner_name'], ['get', 'cmi.entry'], ['get', 'cmi.credit'],
      ['get', 'cmi.mode'], ['get', 'cmi.launch_data'], ['get', 'cmi.completion_threshold'], ['get', 'cmi.completion_status'],
      ['get', 'cmi.success_status'], ['get', 'cmi.time_limit_action'], ['get', 'cmi.total_time'],
      ['get', 'cmi.score._children'], ['get', 'cmi.interactions._children'], ['get', 'cmi.objectives._children'],
      ['get', 'cmi.learner_preference._children'], ['get', 'cmi.comments_from_learner._children'],
      ['get', 'cmi.interactions._count'], ['get', 'cmi.objectives._count'], ['get', 'cmi.comments_from_lms._count'],
      ['get', 'cmi.learner_preference.audio_level'], ['get', 'cmi.learner_preference.delivery_speed'],
      ['set', 'cmi.location', 'chapter-2'], ['get', 'cmi.location'], ['set', 'cmi.suspend_data', '{"page":2}'], ['get', 'cmi.suspend_data'],
      ['set', 'cmi.progress_measure', '0.5'], ['get', 'cmi.completion_status'], ['set', 'cmi.progress_measure', '0.9'], ['get', 'cmi.completion_status'],
      ['set', 'cmi.score.scaled', '0.85'], ['set', 'cmi.score.raw', '85'], ['set', 'cmi.score.min', '0'], ['set', 'cmi.score.max', '100'],
      ['get', 'cmi.score.scaled'],
      ['set', 'cmi.success_status', 'passed'], ['get', 'cmi.success_status'],
      ['set', 'cmi.interactions.0.id', 'urn:lrs:q1'], ['set', 'cmi.interactions.0.type', 'choice'],
      ['set', 'cmi.interactions.0.correct_responses.0.pattern', 'a[,]b'], ['set', 'cmi.interactions.0.learner_response', 'a[,]b'],
      ['set', 'cmi.interactions.0.result', 'correct'], ['set', 'cmi.interactions.0.latency', 'PT12S'],
      ['set', 'cmi.interactions.0.timestamp', '2026-03-04T10:00:00.0Z'], ['set', 'cmi.interactions.0.weighting', '2'],
      ['set', 'cmi.interactions.0.description', '{lang=nb}Hva er riktig?'], ['set', 'cmi.interactions.0.objectives.0.id', 'obj-1'],
      ['get', 'cmi.interactions.0.id'], ['get', 'cmi.interactions.0.type'], ['get', 'cmi.interactions.0.learner_response'],
      ['get', 'cmi.interactions.0.correct_responses._count'], ['get', 'cmi.interactions.0.objectives._count'], ['get', 'cmi.interactions._count'],
      ['set', 'cmi.interactions.1.id', 'q2'], ['set', 'cmi.interactions.1.type', 'true-false'], ['set', 'cmi.interactions.1.learner_response', 'true'],
      ['set', 'cmi.interactions.2.id', 'q3'], ['set', 'cmi.interactions.2.type', 'fill-in'],
      ['set', 'cmi.interactions.2.correct_responses.0.pattern', '{case_matters=true}{lang=en}Oslo'], ['set', 'cmi.interactions.2.learner_response', 'oslo'],
      ['set', 'cmi.interactions.3.id', 'q4'], ['set', 'cmi.interactions.3.type', 'matching'],
      ['set', 'cmi.interactions.3.correct_responses.0.pattern', 'a[.]1[,]b[.]2'], ['set', 'cmi.interactions.3.learner_response', 'a[.]1[,]b[.]3'],
      ['set', 'cmi.interactions.4.id', 'q5'], ['set', 'cmi.interactions.4.type', 'numeric'],
      ['set', 'cmi.interactions.4.correct_responses.0.pattern', '1[:]5'], ['set', 'cmi.interactions.4.learner_response', '3.5'],
      ['set', 'cmi.interactions.5.id', 'q6'], ['set', 'cmi.interactions.5.type', 'sequencing'], ['set', 'cmi.interactions.5.learner_response', 'c[,]a[,]b'],
      ['set', 'cmi.interactions.6.id', 'q7'], ['set', 'cmi.interactions.6.type', 'likert'], ['set', 'cmi.interactions.6.learner_response', 'agree'],
      ['set', 'cmi.interactions.7.id', 'q8'], ['set', 'cmi.interactions.7.type', 'long-fill-in'], ['set', 'cmi.interactions.7.learner_response', 'A long answer.'],
      ['set', 'cmi.interactions.8.id', 'q9'], ['set', 'cmi.interactions.8.type', 'performance'], ['set', 'cmi.interactions.8.learner_response', 'step1[.]x[,]step2[.]y'],
      ['set', 'cmi.interactions.9.id', 'q10'], ['set', 'cmi.interactions.9.type', 'other'], ['set', 'cmi.interactions.9.learner_response', 'anything goes'],
      ['set', 'cmi.objectives.0.id', 'obj-1'], ['set', 'cmi.objectives.0.success_status', 'passed'], ['set', 'cmi.objectives.0.completion_status', 'completed'],
      ['set', 'cmi.objectives.0.score.scaled', '1'], ['set', 'cmi.objectives.0.progress_measure', '1'], ['set', 'cmi.objectives.0.description', 'Objective one'],
      ['get', 'cmi.objectives.0.id'], ['get', 'cmi.objectives.0.success_status'], ['get', 'cmi.objectives._count'],
      ['set', 'cmi.comments_from_learner.0.comment', '{lang=en}Good'], ['set', 'cmi.comments_from_learner.0.location', 'p2'],
      ['set', 'cmi.comments_from_learner.0.timestamp', '2026-03-04T10:00:00.0Z'], ['get', 'cmi.comments_from_learner._count'],
      ['set', 'cmi.learner_preference.audio_level', '0.5'], ['set', 'cmi.learner_preference.language', 'nb-NO'],
      ['set', 'cmi.learner_preference.delivery_speed', '1.5'], ['set', 'cmi.learner_preference.audio_captioning', '1'],
      ['set', 'cmi.session_time', 'PT20M5S'], ['set', 'cmi.exit', 'normal'],
      ['commit', ''], ['term', ''],
    ],
  },
  {
    name: '2004 bad calls', init: { ...S04, scaledPassingScore: '0.7' }, calls: [
      ['get', 'cmi.learner_id'], ['set', 'cmi.location', 'x'], ['commit', ''], ['term', ''],
      ['init', 'x'], ['init', ''], ['init', ''],
      ['get', ''], ['set', '', 'x'], ['get', 'cmi.nothing'], ['set', 'cmi.nothing', 'x'], ['get', 'adl.nothing'],
      ['get', 'cmi.learner_id._children'], ['get', 'cmi.learner_id._count'], ['get', 'cmi._count'],
      ['set', 'cmi.score._children', 'x'], ['set', 'cmi.interactions._count', '2'], ['set', 'cmi._version', '2'],
      ['set', 'cmi.learner_id', 'bob'], ['set', 'cmi.credit', 'no-credit'], ['set', 'cmi.entry', 'resume'], ['set', 'cmi.mode', 'review'],
      ['set', 'cmi.total_time', 'PT1M'], ['set', 'cmi.launch_data', 'x'], ['set', 'cmi.scaled_passing_score', '0.1'],
      ['set', 'cmi.completion_threshold', '0.1'], ['set', 'cmi.max_time_allowed', 'PT1H'], ['set', 'cmi.time_limit_action', 'exit,message'],
      ['set', 'cmi.comments_from_lms.0.comment', 'x'],
      ['get', 'cmi.exit'], ['get', 'cmi.session_time'],
      ['get', 'cmi.location'], ['get', 'cmi.suspend_data'], ['get', 'cmi.score.scaled'], ['get', 'cmi.score.raw'], ['get', 'cmi.progress_measure'],
      ['get', 'cmi.launch_data'], ['get', 'cmi.completion_threshold'], ['get', 'cmi.max_time_allowed'], ['get', 'cmi.success_status'],
      ['set', 'cmi.completion_status', 'done'], ['set', 'cmi.completion_status', 'Completed'], ['set', 'cmi.success_status', 'ok'],
      ['set', 'cmi.exit', 'quit'], ['set', 'cmi.score.scaled', '1.5'], ['set', 'cmi.score.scaled', 'abc'], ['set', 'cmi.score.raw', 'x'],
      ['set', 'cmi.progress_measure', '-0.1'], ['set', 'cmi.progress_measure', '1.01'], ['set', 'cmi.session_time', '00:10:00'],
      ['set', 'cmi.session_time', 'PT'], ['set', 'cmi.session_time', 'P1DT'], ['set', 'cmi.learner_preference.audio_level', '-1'],
      ['set', 'cmi.learner_preference.audio_captioning', '2'], ['set', 'cmi.learner_preference.delivery_speed', 'fast'],
      ['set', 'cmi.learner_preference.language', 'not a language'],
      ['set', 'cmi.score.scaled', '0.5'], ['get', 'cmi.success_status'], ['set', 'cmi.score.scaled', '0.9'], ['get', 'cmi.success_status'],
      ['set', 'cmi.interactions.0.type', 'choice'], ['set', 'cmi.interactions.1.id', 'q2'], ['set', 'cmi.interactions.0.id', 'q1'],
      ['get', 'cmi.interactions.0.type'], ['get', 'cmi.interactions.0.learner_response'], ['get', 'cmi.interactions.5.id'],
      ['set', 'cmi.interactions.0.learner_response', 'a'], ['set', 'cmi.interactions.0.correct_responses.0.pattern', 'a'],
      ['set', 'cmi.interactions.0.type', 'essay'], ['set', 'cmi.interactions.0.type', 'true-false'],
      ['set', 'cmi.interactions.0.learner_response', 'yes'], ['set', 'cmi.interactions.0.learner_response', 'true'],
      ['set', 'cmi.interactions.0.correct_responses.0.pattern', 'false'], ['set', 'cmi.interactions.0.correct_responses.1.pattern', 'true'],
      ['set', 'cmi.interactions.0.correct_responses.5.pattern', 'true'], ['set', 'cmi.interactions.0.result', 'wrong'],
      ['set', 'cmi.interactions.0.latency', '00:00:05'], ['set', 'cmi.interactions.0.timestamp', 'yesterday'],
      ['set', 'cmi.interactions.0.objectives.0.id', 'o1'], ['set', 'cmi.interactions.0.objectives.1.id', 'o1'],
      ['set', 'cmi.interactions.0.id', ''], ['set', 'cmi.interactions.1.id', 'has space'],
      ['set', 'cmi.objectives.0.success_status', 'passed'], ['set', 'cmi.objectives.0.id', 'o1'], ['set', 'cmi.objectives.1.id', 'o1'],
      ['set', 'cmi.objectives.0.id', 'o2'], ['set', 'cmi.objectives.0.score.scaled', '2'], ['set', 'cmi.objectives.0.completion_status', 'x'],
      ['set', 'cmi.objectives.3.id', 'o3'], ['get', 'cmi.objectives.1.id'],
      ['set', 'cmi.location', 'z'.repeat(1001)], ['set', 'cmi.suspend_data', 'y'.repeat(64001)],
      ['set', 'adl.nav.request', 'continue'], ['set', 'adl.nav.request', 'fly'],
      ['commit', 'x'], ['term', 'x'], ['term', ''], ['term', ''], ['get', 'cmi.learner_id'], ['set', 'cmi.location', 'y'],
      ['commit', ''], ['init', ''],
    ],
  },
  {
    name: '2004 resume and suspend', init: { ...S04, entry: 'resume', suspendData: 'saved', location: 'p9', totalTime: 'PT1H' }, calls: [
      ['init', ''], ['get', 'cmi.entry'], ['get', 'cmi.suspend_data'], ['get', 'cmi.location'], ['get', 'cmi.total_time'],
      ['set', 'cmi.exit', 'suspend'], ['set', 'cmi.session_time', 'PT30M'], ['set', 'cmi.completion_status', 'incomplete'],
      ['term', ''],
    ],
  },
  {
    name: '2004 failed commit', init: S04, calls: [
      ['init', ''], ['set', 'cmi.completion_status', 'completed'], ['fail'], ['commit', ''], ['get', 'cmi.completion_status'],
      ['term', ''], ['ok'], ['commit', ''], ['term', ''],
    ],
  },
];

function run(api, version, calls, setOK) {
  const n = names[version];
  const out = [];
  for (const [op, ...args] of calls) {
    if (op === 'fail' || op === 'ok') {
      setOK(op === 'ok');
      continue;
    }
    let ret;
    try {
      ret = api[n[op]](...args);
    } catch (e) {
      ret = 'threw ' + e.message;
    }
    out.push({ ret: String(ret), err: String(api[n.err]()) });
  }
  return out;
}

function describe(op, args) {
  if (op === 'set') return `set ${args[0]} ${JSON.stringify(args[1].length > 40 ? args[1].slice(0, 20) + '…(' + args[1].length + ')' : args[1])}`;
  return `${op} ${args.length ? JSON.stringify(args[0]) : ''}`.trim();
}

const report = [];
for (const sc of scenarios) {
  let ourOK = true;
  const ourCommits = [];
  const mine = ours.create(sc.init, (body) => {
    ourCommits.push(JSON.parse(JSON.stringify(body)));
    return ourOK;
  });
  const oursOut = run(mine, sc.init.version, sc.calls, (v) => { ourOK = v; });

  theirCommits = [];
  commitOK = true;
  const settings = { lmsCommitUrl: 'http://lrs.test/api/v1/scorm/commits', logLevel: 5, autocommit: false };
  const theirs = sc.init.version === '1.2' ? new Scorm12API(settings) : new Scorm2004API(settings);
  theirs.loadFromJSON(theirInit(sc.init).cmi ? theirInit(sc.init) : {}, '');
  const theirsOut = run(theirs, sc.init.version, sc.calls, (v) => { commitOK = v; });

  const steps = [];
  let i = 0;
  for (const [op, ...args] of sc.calls) {
    if (op === 'fail' || op === 'ok') continue;
    steps.push({ call: describe(op, args), ours: oursOut[i], theirs: theirsOut[i] });
    i++;
  }
  report.push({ name: sc.name, version: sc.init.version, steps, commits: { ours: ourCommits, theirs: theirCommits } });
}
process.stdout.write(JSON.stringify(report));

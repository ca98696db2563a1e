/*
 * The LRS's SCORM run-time API: window.API (SCORM 1.2) and
 * window.API_1484_11 (SCORM 2004 4th edition) for the SCO a player page
 * shows. Plain ES2017 script, no build step; served as it is (package
 * scorm embeds it).
 *
 *   const api = LRSScorm.start(init);   // installs window.API or window.API_1484_11
 *
 * init is the JSON of scorm.Init (scorm/init.go): version "1.2" or
 * "2004", learnerId, learnerName, entry, credit, mode, launchData,
 * masteryScore / scaledPassingScore / completionThreshold,
 * maxTimeAllowed, timeLimitAction, what a resumed attempt had
 * (suspendData, location, totalTime, lessonStatus / completionStatus,
 * successStatus, score, progressMeasure, interactions, objectives), and
 * commitUrl / commitHeaders.
 *
 * LMSCommit/Commit and LMSFinish/Terminate POST the runtime data as JSON
 * in the shape of scorm-again's lmsCommitUrl body, {"cmi": {...}} (arrays
 * as objects keyed by index, values as strings), with "terminate": true on
 * the commit of LMSFinish/Terminate; package scorm parses it
 * (ParseCommit).
 *
 * The POST is a synchronous XMLHttpRequest, on purpose: the SCORM API is
 * synchronous (LMSCommit/Commit return "true" or "false" to the SCO when
 * they return), and a SCO that is told "true" may close its window. Only
 * a request that has finished can say whether the data is stored, so the
 * answer waits for it: a POST that fails (network error, a status other
 * than 2xx, or a JSON answer whose "result" is not true) makes the call
 * return "false" with error 101 (SCORM 1.2: there is no commit error) or
 * 391 (SCORM 2004, General Commit Failure), never a silent "true". The
 * data stays in the runtime; the SCO may commit again.
 *
 * Except as the page goes away: Chromium refuses synchronous requests
 * during page dismissal (pagehide, unload, beforeunload), which is when
 * many SCOs finish. While this window or a window given to
 * LRSScorm.watch (the SCO's frame) is being dismissed, a commit is sent
 * with fetch and keepalive, which the browser completes after the page is
 * gone, and the call returns "true" once the browser has taken the
 * request: nothing can wait for its answer any more.
 */
(function (global) {
  'use strict';

  const T = 'true';
  const F = 'false';

  // ---------- value types ----------

  const reDecimal = /^-?[0-9]+(\.[0-9]+)?$/;
  const reTimespan12 = /^[0-9]{2,4}:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,2})?$/;
  const reTime12 = /^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,2})?$/;
  const reDuration = /^P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]{1,2})?)S)?)?$/;
  // time (second,10,0), RTE 4.1.1.6: YYYY[-MM[-DD[Thh[:mm[:ss[.s[TZD]]]]]]],
  // the year 1970 to 2038, a time zone only after fractions of a second.
  const reTime2004 = /^(19[7-9][0-9]|20[0-2][0-9]|203[0-8])(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3])(:[0-5][0-9](:[0-5][0-9](\.[0-9]{1,2}(Z|[+-]([01][0-9]|2[0-3])(:[0-5][0-9])?)?)?)?)?)?)?)?$/;
  const reLang = /^([a-zA-Z]{2,3}|i|x)(-[a-zA-Z0-9\-]{1,8})*$/;

  function isDecimal(v) { return reDecimal.test(v); }

  function isDuration(v) {
    return reDuration.test(v) && v !== 'P' && !v.endsWith('T');
  }

  // durationSeconds reads an ISO 8601 duration (months and years as 30
  // and 365 days: SCORM 2004 session times never hold them).
  function durationSeconds(v) {
    const m = reDuration.exec(v || '');
    if (!m) return 0;
    const n = (i) => Number(m[i] || 0);
    return n(1) * 31536000 + n(2) * 2592000 + n(3) * 86400 + n(4) * 3600 + n(5) * 60 + n(6);
  }

  function formatDuration(sec) {
    const cs = Math.round(sec * 100);
    const h = Math.floor(cs / 360000);
    const m = Math.floor((cs % 360000) / 6000);
    const s = (cs % 6000) / 100;
    return 'PT' + h + 'H' + m + 'M' + s + 'S';
  }

  function timespanSeconds(v) {
    if (!reTimespan12.test(v || '')) return 0;
    const p = v.split(':');
    return Number(p[0]) * 3600 + Number(p[1]) * 60 + Number(p[2]);
  }

  function formatTimespan(sec) {
    const cs = Math.round(sec * 100);
    let h = Math.floor(cs / 360000);
    if (h > 9999) h = 9999;
    const m = Math.floor((cs % 360000) / 6000);
    const s = Math.floor((cs % 6000) / 100);
    const f = cs % 100;
    const two = (x) => (x < 10 ? '0' : '') + x;
    return (h < 10 ? '000' : h < 100 ? '00' : h < 1000 ? '0' : '') + h + ':' + two(m) + ':' + two(s) + (f ? '.' + two(f) : '');
  }

  // A localized string (SCORM 2004 RTE 4.1.1.3): an optional {lang=tag}
  // prefix, then at most max characters.
  function isLocalized(v, max) {
    let text = v;
    if (v.startsWith('{lang=')) {
      const end = v.indexOf('}');
      if (end < 0) return false;
      const tag = v.slice(6, end);
      if (tag !== '' && !reLang.test(tag)) return false;
      text = v.slice(end + 1);
    }
    return text.length <= max;
  }

  function isShortId(v) { return v.length > 0 && v.length <= 250 && !/\s/.test(v); }
  function isLongId(v) { return v.length > 0 && v.length <= 4000 && !/\s/.test(v); }
  function isIdentifier12(v) { return v.length > 0 && v.length <= 255 && !/\s/.test(v); }

  // The delimited lists of SCORM 2004 responses (RTE 4.2.9.2): items
  // between "[,]", and the {case_matters=}/{order_matters=}/{lang=}
  // prefixes of patterns.
  function stripPrefixes(v, allowed) {
    let rest = v;
    for (;;) {
      const m = /^\{(case_matters|order_matters|lang)=([^}]*)\}/.exec(rest);
      if (!m || !allowed.includes(m[1])) return rest;
      if (m[1] !== 'lang' && m[2] !== 'true' && m[2] !== 'false') return null;
      rest = rest.slice(m[0].length);
    }
  }

  function items(v) { return v === '' ? [] : v.split('[,]'); }

  function unique(list) { return new Set(list).size === list.length; }

  // responseOK checks a learner response (pattern false) or a correct
  // response pattern (pattern true) of an interaction type.
  function responseOK(type, v, pattern) {
    let body = v;
    switch (type) {
      case 'true-false':
        return v === 'true' || v === 'false';
      case 'choice': {
        const l = items(v);
        return l.length <= 36 && l.every(isShortId) && unique(l);
      }
      case 'fill-in': {
        body = pattern ? stripPrefixes(v, ['case_matters', 'order_matters']) : v;
        if (body === null) return false;
        const l = items(body);
        return l.length <= 10 && l.every((x) => isLocalized(x, 250));
      }
      case 'long-fill-in':
        body = pattern ? stripPrefixes(v, ['case_matters']) : v;
        return body !== null && isLocalized(body, 4000);
      case 'likert':
        return isShortId(v);
      case 'matching': {
        const l = items(v);
        return l.length > 0 && l.length <= 36 && l.every((x) => {
          const p = x.split('[.]');
          return p.length === 2 && isShortId(p[0]) && isShortId(p[1]);
        });
      }
      case 'performance': {
        body = pattern ? stripPrefixes(v, ['order_matters']) : v;
        if (body === null) return false;
        const l = items(body);
        return l.length > 0 && l.length <= 250 && l.every((x) => {
          const p = x.split('[.]');
          if (p.length !== 2 || (p[0] === '' && p[1] === '')) return false;
          if (p[0] !== '' && !isShortId(p[0])) return false;
          return p[1].length <= 250;
        });
      }
      case 'sequencing': {
        const l = items(v);
        return l.length > 0 && l.length <= 36 && l.every(isShortId);
      }
      case 'numeric': {
        if (!pattern) return isDecimal(v);
        const p = v.split('[:]');
        if (p.length === 1) return isDecimal(p[0]);
        if (p.length !== 2 || !p.every((x) => x === '' || isDecimal(x))) return false;
        return p[0] === '' || p[1] === '' || Number(p[0]) <= Number(p[1]);
      }
      case 'other':
        return v.length <= 4000;
    }
    return false;
  }

  // How many correct response patterns an interaction type may have (RTE
  // 4.2.9.1).
  const maxPatterns = { 'true-false': 1, likert: 1, numeric: 1, other: 1 };

  // ---------- errors ----------

  const messages12 = {
    0: 'No error', 101: 'General exception', 201: 'Invalid argument error',
    202: 'Element cannot have children', 203: 'Element not an array - cannot have count',
    301: 'Not initialized', 401: 'Not implemented error', 402: 'Invalid set value, element is a keyword',
    403: 'Element is read only', 404: 'Element is write only', 405: 'Incorrect data type',
  };
  const messages2004 = {
    0: 'No Error', 101: 'General Exception', 102: 'General Initialization Failure',
    103: 'Already Initialized', 104: 'Content Instance Terminated', 111: 'General Termination Failure',
    112: 'Termination Before Initialization', 113: 'Termination After Termination',
    122: 'Retrieve Data Before Initialization', 123: 'Retrieve Data After Termination',
    132: 'Store Data Before Initialization', 133: 'Store Data After Termination',
    142: 'Commit Before Initialization', 143: 'Commit After Termination',
    201: 'General Argument Error', 301: 'General Get Failure', 351: 'General Set Failure',
    391: 'General Commit Failure', 401: 'Undefined Data Model Element',
    402: 'Unimplemented Data Model Element', 403: 'Data Model Element Value Not Initialized',
    404: 'Data Model Element Is Read Only', 405: 'Data Model Element Is Write Only',
    406: 'Data Model Element Type Mismatch', 407: 'Data Model Element Value Out Of Range',
    408: 'Data Model Dependency Not Established',
  };

  // A failure of a data model call: the error code, and a diagnostic.
  class Fail {
    constructor(code, diagnostic) { this.code = code; this.diagnostic = diagnostic; }
  }
  function fail(code, diagnostic) { throw new Fail(code, diagnostic); }

  // ---------- the data model ----------
  //
  // An element is described by its path with every array index replaced
  // by "n": its access (r, w, rw) and a check of the values it takes
  // (returning an error code, 0 for a valid value). Arrays are described
  // by the path of their elements' fields.

  function vocab(...words) { return (v) => (words.includes(v) ? 0 : -1); }

  // Error codes of the two editions for the same failures.
  const codes12 = {
    notInit: 301, afterTerm: 301, general: 101, arg: 201, undefinedEl: 401, readOnly: 403, writeOnly: 404,
    keywordSet: 402, children: 202, count: 203, type: 405, range: 405, dependency: 201, index: 201, uninit: 0,
    getFail: 201, setFail: 201, commit: 101,
  };
  const codes2004 = {
    undefinedEl: 401, readOnly: 404, writeOnly: 405, keywordSet: 404, children: 301, count: 301,
    type: 406, range: 407, dependency: 408, index: 351, uninit: 403, getFail: 301, setFail: 351, commit: 391,
  };

  function range(lo, hi, type) {
    return (v) => {
      if (!isDecimal(v)) return type;
      const n = Number(v);
      return (lo !== null && n < lo) || (hi !== null && n > hi) ? 'range' : 0;
    };
  }
  const dec12 = (lo, hi) => (v) => (isDecimal(v) && Number(v) >= lo && Number(v) <= hi ? 0 : 'type');
  const sint12 = (lo, hi) => (v) => (/^-?[0-9]+$/.test(v) && Number(v) >= lo && Number(v) <= hi ? 0 : 'type');
  const str = (max) => (v) => (v.length <= max ? 0 : 'type');
  const loc = (max) => (v) => (isLocalized(v, max) ? 0 : 'type');
  const yes = () => 0;
  const status12 = (v) => (['passed', 'completed', 'failed', 'incomplete', 'browsed'].includes(v) ? 0 : 'type');

  // SCORM 1.2 (RTE 3.4).
  const model12 = {
    'cmi._children': { access: 'r', keyword: 'core,suspend_data,launch_data,comments,objectives,student_data,student_preference,interactions' },
    'cmi.core._children': { access: 'r', keyword: 'student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time' },
    'cmi.core.student_id': { access: 'r' },
    'cmi.core.student_name': { access: 'r' },
    'cmi.core.lesson_location': { access: 'rw', check: str(255) },
    'cmi.core.credit': { access: 'r' },
    'cmi.core.lesson_status': { access: 'rw', check: status12 },
    'cmi.core.entry': { access: 'r' },
    'cmi.core.score._children': { access: 'r', keyword: 'raw,min,max' },
    'cmi.core.score.raw': { access: 'rw', check: dec12(0, 100) },
    'cmi.core.score.min': { access: 'rw', check: dec12(0, 100) },
    'cmi.core.score.max': { access: 'rw', check: dec12(0, 100) },
    'cmi.core.total_time': { access: 'r' },
    'cmi.core.lesson_mode': { access: 'r' },
    'cmi.core.exit': { access: 'w', check: (v) => (['time-out', 'suspend', 'logout', ''].includes(v) ? 0 : 'type') },
    'cmi.core.session_time': { access: 'w', check: (v) => (reTimespan12.test(v) ? 0 : 'type') },
    'cmi.suspend_data': { access: 'rw', check: str(4096) },
    'cmi.launch_data': { access: 'r' },
    'cmi.comments': { access: 'rw', check: str(4096) },
    'cmi.comments_from_lms': { access: 'r' },
    'cmi.objectives._children': { access: 'r', keyword: 'id,score,status' },
    'cmi.objectives.n.id': { access: 'rw', check: (v) => (isIdentifier12(v) ? 0 : 'type') },
    'cmi.objectives.n.score._children': { access: 'r', keyword: 'raw,min,max' },
    'cmi.objectives.n.score.raw': { access: 'rw', check: dec12(0, 100) },
    'cmi.objectives.n.score.min': { access: 'rw', check: dec12(0, 100) },
    'cmi.objectives.n.score.max': { access: 'rw', check: dec12(0, 100) },
    'cmi.objectives.n.status': { access: 'rw', check: (v) => (v === 'not attempted' ? 0 : status12(v)) },
    'cmi.student_data._children': { access: 'r', keyword: 'mastery_score,max_time_allowed,time_limit_action' },
    'cmi.student_data.mastery_score': { access: 'r' },
    'cmi.student_data.max_time_allowed': { access: 'r' },
    'cmi.student_data.time_limit_action': { access: 'r' },
    'cmi.student_preference._children': { access: 'r', keyword: 'audio,language,speed,text' },
    'cmi.student_preference.audio': { access: 'rw', check: sint12(-1, 100) },
    'cmi.student_preference.language': { access: 'rw', check: str(255) },
    'cmi.student_preference.speed': { access: 'rw', check: sint12(-100, 100) },
    'cmi.student_preference.text': { access: 'rw', check: sint12(-1, 1) },
    'cmi.interactions._children': { access: 'r', keyword: 'id,objectives,time,type,correct_responses,weighting,student_response,result,latency' },
    'cmi.interactions.n.id': { access: 'w', check: (v) => (isIdentifier12(v) ? 0 : 'type') },
    'cmi.interactions.n.objectives.n.id': { access: 'w', check: (v) => (isIdentifier12(v) ? 0 : 'type') },
    'cmi.interactions.n.time': { access: 'w', check: (v) => (reTime12.test(v) ? 0 : 'type') },
    'cmi.interactions.n.type': { access: 'w', check: (v) => (['true-false', 'choice', 'fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric'].includes(v) ? 0 : 'type') },
    'cmi.interactions.n.correct_responses.n.pattern': { access: 'w', check: str(255) },
    'cmi.interactions.n.weighting': { access: 'w', check: (v) => (isDecimal(v) ? 0 : 'type') },
    'cmi.interactions.n.student_response': { access: 'w', check: str(255) },
    'cmi.interactions.n.result': { access: 'w', check: (v) => (['correct', 'wrong', 'unanticipated', 'neutral'].includes(v) || isDecimal(v) ? 0 : 'type') },
    'cmi.interactions.n.latency': { access: 'w', check: (v) => (reTimespan12.test(v) ? 0 : 'type') },
  };

  const status2004 = vocab('completed', 'incomplete', 'not attempted', 'unknown');
  const success2004 = vocab('passed', 'failed', 'unknown');
  const real = (v) => (isDecimal(v) ? 0 : 'type');

  // SCORM 2004 4th edition (RTE 4.2). uninit: reading before a value is
  // set is error 403.
  const model2004 = {
    'cmi._version': { access: 'r' },
    'cmi.comments_from_learner._children': { access: 'r', keyword: 'comment,location,timestamp' },
    'cmi.comments_from_learner.n.comment': { access: 'rw', check: loc(4000), uninit: true },
    'cmi.comments_from_learner.n.location': { access: 'rw', check: str(250), uninit: true },
    'cmi.comments_from_learner.n.timestamp': { access: 'rw', check: (v) => (reTime2004.test(v) ? 0 : 'type'), uninit: true },
    'cmi.comments_from_lms._children': { access: 'r', keyword: 'comment,location,timestamp' },
    'cmi.comments_from_lms.n.comment': { access: 'r', uninit: true },
    'cmi.comments_from_lms.n.location': { access: 'r', uninit: true },
    'cmi.comments_from_lms.n.timestamp': { access: 'r', uninit: true },
    'cmi.completion_status': { access: 'rw', check: status2004 },
    'cmi.completion_threshold': { access: 'r', uninit: true },
    'cmi.credit': { access: 'r' },
    'cmi.entry': { access: 'r' },
    'cmi.exit': { access: 'w', check: vocab('time-out', 'suspend', 'logout', 'normal', '') },
    'cmi.interactions._children': { access: 'r', keyword: 'id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description' },
    'cmi.interactions.n.id': { access: 'rw', check: (v) => (isLongId(v) ? 0 : 'type') },
    'cmi.interactions.n.type': { access: 'rw', check: vocab('true-false', 'choice', 'fill-in', 'long-fill-in', 'likert', 'matching', 'performance', 'sequencing', 'numeric', 'other'), uninit: true },
    'cmi.interactions.n.objectives.n.id': { access: 'rw', check: (v) => (isLongId(v) ? 0 : 'type') },
    'cmi.interactions.n.timestamp': { access: 'rw', check: (v) => (reTime2004.test(v) ? 0 : 'type'), uninit: true },
    'cmi.interactions.n.correct_responses.n.pattern': { access: 'rw', uninit: true },
    'cmi.interactions.n.weighting': { access: 'rw', check: real, uninit: true },
    'cmi.interactions.n.learner_response': { access: 'rw', uninit: true },
    'cmi.interactions.n.result': { access: 'rw', check: (v) => (['correct', 'incorrect', 'unanticipated', 'neutral'].includes(v) || isDecimal(v) ? 0 : 'type'), uninit: true },
    'cmi.interactions.n.latency': { access: 'rw', check: (v) => (isDuration(v) ? 0 : 'type'), uninit: true },
    'cmi.interactions.n.description': { access: 'rw', check: loc(250), uninit: true },
    'cmi.launch_data': { access: 'r', uninit: true },
    'cmi.learner_id': { access: 'r' },
    'cmi.learner_name': { access: 'r' },
    'cmi.learner_preference._children': { access: 'r', keyword: 'audio_level,language,delivery_speed,audio_captioning' },
    'cmi.learner_preference.audio_level': { access: 'rw', check: range(0, null, 'type') },
    'cmi.learner_preference.language': { access: 'rw', check: (v) => (v === '' || reLang.test(v) ? 0 : 'type') },
    'cmi.learner_preference.delivery_speed': { access: 'rw', check: range(0, null, 'type') },
    'cmi.learner_preference.audio_captioning': { access: 'rw', check: (v) => (['-1', '0', '1'].includes(v) ? 0 : /^-?[0-9]+$/.test(v) ? 'range' : 'type') },
    'cmi.location': { access: 'rw', check: str(1000), uninit: true },
    'cmi.max_time_allowed': { access: 'r', uninit: true },
    'cmi.mode': { access: 'r' },
    'cmi.objectives._children': { access: 'r', keyword: 'id,score,success_status,completion_status,progress_measure,description' },
    'cmi.objectives.n.id': { access: 'rw', check: (v) => (isLongId(v) ? 0 : 'type') },
    'cmi.objectives.n.score._children': { access: 'r', keyword: 'scaled,raw,min,max' },
    'cmi.objectives.n.score.scaled': { access: 'rw', check: range(-1, 1, 'type'), uninit: true },
    'cmi.objectives.n.score.raw': { access: 'rw', check: real, uninit: true },
    'cmi.objectives.n.score.min': { access: 'rw', check: real, uninit: true },
    'cmi.objectives.n.score.max': { access: 'rw', check: real, uninit: true },
    'cmi.objectives.n.success_status': { access: 'rw', check: success2004 },
    'cmi.objectives.n.completion_status': { access: 'rw', check: status2004 },
    'cmi.objectives.n.progress_measure': { access: 'rw', check: range(0, 1, 'type'), uninit: true },
    'cmi.objectives.n.description': { access: 'rw', check: loc(250), uninit: true },
    'cmi.progress_measure': { access: 'rw', check: range(0, 1, 'type'), uninit: true },
    'cmi.scaled_passing_score': { access: 'r', uninit: true },
    'cmi.score._children': { access: 'r', keyword: 'scaled,raw,min,max' },
    'cmi.score.scaled': { access: 'rw', check: range(-1, 1, 'type'), uninit: true },
    'cmi.score.raw': { access: 'rw', check: real, uninit: true },
    'cmi.score.min': { access: 'rw', check: real, uninit: true },
    'cmi.score.max': { access: 'rw', check: real, uninit: true },
    'cmi.session_time': { access: 'w', check: (v) => (isDuration(v) ? 0 : 'type') },
    'cmi.success_status': { access: 'rw', check: success2004 },
    'cmi.suspend_data': { access: 'rw', check: str(64000), uninit: true },
    'cmi.time_limit_action': { access: 'r' },
    'cmi.total_time': { access: 'r' },
    'adl.nav.request': { access: 'rw', check: (v) => (/^(continue|previous|exit|exitAll|abandon|abandonAll|suspendAll|_none_|\{target=[^}\s]+\}(choice|jump))$/.test(v) ? 0 : 'type') },
    'adl.nav.request_valid.continue': { access: 'r' },
    'adl.nav.request_valid.previous': { access: 'r' },
  };

  // The arrays of each edition: path of the array -> its _children, the
  // most elements kept, the field that creates an element (2004: the id
  // must come first, RTE 4.2.9 and 4.2.17).
  const arrays12 = {
    'cmi.objectives': { max: 1000 },
    'cmi.interactions': { max: 1000 },
    'cmi.interactions.n.objectives': { max: 1000 },
    'cmi.interactions.n.correct_responses': { max: 250 },
  };
  const arrays2004 = {
    'cmi.comments_from_learner': { max: 250 },
    'cmi.comments_from_lms': { max: 250 },
    'cmi.objectives': { max: 1000, first: 'id' },
    'cmi.interactions': { max: 1000, first: 'id' },
    'cmi.interactions.n.objectives': { max: 1000, first: 'id' },
    'cmi.interactions.n.correct_responses': { max: 250 },
  };

  // ---------- the runtime ----------

  class Runtime {
    constructor(init, transport) {
      this.init = init || {};
      this.is12 = this.init.version === '1.2';
      this.model = this.is12 ? model12 : model2004;
      this.arrays = this.is12 ? arrays12 : arrays2004;
      this.codes = this.is12 ? codes12 : codes2004;
      this.messages = this.is12 ? messages12 : messages2004;
      this.transport = transport;
      this.state = 'new'; // new, running, terminated
      this.error = 0;
      this.diagnostic = '';
      this.values = {}; // path -> value, arrays as path.n.field
      this.counts = {}; // array path (with indexes) -> count
      this.load();
    }

    // load sets the values the LMS gives (RTE 3.4 and 4.2: read-only
    // elements, and what a resumed attempt had).
    load() {
      const i = this.init;
      const set = (k, v) => { if (v !== undefined && v !== null && v !== '') this.values[k] = String(v); };
      const score = (prefix, s) => {
        if (!s) return;
        for (const k of ['scaled', 'raw', 'min', 'max']) set(prefix + '.' + k, s[k]);
      };
      const resume = i.entry === 'resume';
      if (this.is12) {
        Object.assign(this.values, {
          'cmi.core.student_id': i.learnerId || '', 'cmi.core.student_name': i.learnerName || '',
          'cmi.core.lesson_location': '', 'cmi.core.credit': i.credit || 'credit',
          'cmi.core.lesson_status': 'not attempted', 'cmi.core.entry': i.entry === 'ab-initio' || resume ? i.entry : '',
          'cmi.core.score.raw': '', 'cmi.core.score.min': '', 'cmi.core.score.max': '',
          'cmi.core.total_time': '0000:00:00', 'cmi.core.lesson_mode': i.mode || 'normal', 'cmi.core.exit': '',
          'cmi.core.session_time': '', 'cmi.suspend_data': '', 'cmi.launch_data': i.launchData || '',
          'cmi.comments': '', 'cmi.comments_from_lms': '', 'cmi.student_data.mastery_score': i.masteryScore || '',
          'cmi.student_data.max_time_allowed': i.maxTimeAllowed || '', 'cmi.student_data.time_limit_action': i.timeLimitAction || '',
          'cmi.student_preference.audio': '0', 'cmi.student_preference.language': '', 'cmi.student_preference.speed': '0',
          'cmi.student_preference.text': '0',
        });
        if (resume) {
          set('cmi.suspend_data', i.suspendData);
          set('cmi.core.lesson_location', i.location);
          set('cmi.core.lesson_status', i.lessonStatus);
          score('cmi.core.score', i.score);
        }
        set('cmi.core.total_time', i.totalTime);
        this.loadObjectives(resume ? i.objectives : null);
        return;
      }
      Object.assign(this.values, {
        'cmi._version': '1.0', 'cmi.completion_status': 'unknown', 'cmi.credit': i.credit || 'credit',
        'cmi.entry': i.entry === 'ab-initio' || resume ? i.entry : '', 'cmi.exit': '',
        'cmi.learner_id': i.learnerId || '', 'cmi.learner_name': i.learnerName || '',
        'cmi.learner_preference.audio_level': '1', 'cmi.learner_preference.language': '',
        'cmi.learner_preference.delivery_speed': '1', 'cmi.learner_preference.audio_captioning': '0',
        'cmi.mode': i.mode || 'normal', 'cmi.success_status': 'unknown', 'cmi.session_time': '',
        'cmi.time_limit_action': i.timeLimitAction || 'continue,no message', 'cmi.total_time': 'PT0S',
        'adl.nav.request': '_none_', 'adl.nav.request_valid.continue': 'unknown', 'adl.nav.request_valid.previous': 'unknown',
      });
      set('cmi.launch_data', i.launchData);
      set('cmi.completion_threshold', i.completionThreshold);
      set('cmi.scaled_passing_score', i.scaledPassingScore);
      set('cmi.max_time_allowed', i.maxTimeAllowed);
      set('cmi.total_time', i.totalTime);
      if (resume) {
        set('cmi.suspend_data', i.suspendData);
        set('cmi.location', i.location);
        set('cmi.completion_status', i.completionStatus);
        set('cmi.success_status', i.successStatus);
        set('cmi.progress_measure', i.progressMeasure);
        score('cmi.score', i.score);
        (i.interactions || []).forEach((x, n) => {
          const p = 'cmi.interactions.' + n;
          set(p + '.id', x.id); set(p + '.type', x.type); set(p + '.timestamp', x.timestamp);
          set(p + '.weighting', x.weighting); set(p + '.learner_response', x.learnerResponse);
          set(p + '.result', x.result); set(p + '.latency', x.latency); set(p + '.description', x.description);
          (x.correctResponses || []).forEach((c, m) => { this.values[p + '.correct_responses.' + m + '.pattern'] = String(c); });
          this.counts[p + '.correct_responses'] = (x.correctResponses || []).length;
          (x.objectives || []).forEach((o, m) => { this.values[p + '.objectives.' + m + '.id'] = String(o); });
          this.counts[p + '.objectives'] = (x.objectives || []).length;
          this.counts['cmi.interactions'] = n + 1;
        });
      }
      this.loadObjectives(resume ? i.objectives : null);
    }

    loadObjectives(list) {
      (list || []).forEach((o, n) => {
        const p = 'cmi.objectives.' + n;
        const set = (k, v) => { if (v !== undefined && v !== null && v !== '') this.values[k] = String(v); };
        set(p + '.id', o.id);
        if (this.is12) {
          set(p + '.status', o.status);
        } else {
          set(p + '.success_status', o.success); set(p + '.completion_status', o.completion);
        }
        for (const k of ['scaled', 'raw', 'min', 'max']) set(p + '.score.' + k, o.score && o.score[k]);
        this.counts['cmi.objectives'] = n + 1;
      });
    }

    // ----- the API calls -----

    call(fn) {
      try {
        const v = fn();
        this.error = 0;
        this.diagnostic = '';
        return v;
      } catch (e) {
        if (!(e instanceof Fail)) throw e;
        this.error = e.code;
        this.diagnostic = e.diagnostic || '';
        return null;
      }
    }

    lifecycle(before, after) {
      if (this.state === 'new') fail(before, 'the API is not initialized yet');
      if (this.state === 'terminated') fail(after, 'the API has been terminated');
    }

    initialize(arg) {
      const v = this.call(() => {
        if (arg !== '' && arg !== undefined && arg !== null) fail(this.is12 ? 201 : 201, 'the argument must be the empty string');
        if (this.state === 'running') fail(this.is12 ? 101 : 103, 'already initialized');
        if (this.state === 'terminated') fail(this.is12 ? 101 : 104, 'the content instance has terminated');
        this.state = 'running';
        this.started = Date.now();
        return T;
      });
      return v === null ? F : v;
    }

    terminate(arg) {
      const v = this.call(() => {
        if (arg !== '' && arg !== undefined && arg !== null) fail(201, 'the argument must be the empty string');
        this.lifecycle(this.is12 ? 301 : 112, this.is12 ? 101 : 113);
        this.commitNow(true);
        this.state = 'terminated';
        return T;
      });
      return v === null ? F : v;
    }

    commit(arg) {
      const v = this.call(() => {
        if (arg !== '' && arg !== undefined && arg !== null) fail(201, 'the argument must be the empty string');
        this.lifecycle(this.is12 ? 301 : 142, this.is12 ? 301 : 143);
        this.commitNow(false);
        return T;
      });
      return v === null ? F : v;
    }

    getValue(el) {
      const v = this.call(() => {
        this.lifecycle(this.is12 ? 301 : 122, this.is12 ? 301 : 123);
        return this.get(String(el === undefined || el === null ? '' : el));
      });
      return v === null ? '' : v;
    }

    setValue(el, value) {
      const v = this.call(() => {
        this.lifecycle(this.is12 ? 301 : 132, this.is12 ? 301 : 133);
        this.set(String(el === undefined || el === null ? '' : el), value === undefined || value === null ? '' : String(value));
        return T;
      });
      return v === null ? F : v;
    }

    lastError() { return String(this.error); }

    errorString(code) {
      const m = this.messages[Number(code)];
      return m === undefined ? '' : m;
    }

    errorDiagnostic(code) {
      if (code === '' || code === undefined || code === null || Number(code) === this.error) return this.diagnostic;
      return this.errorString(code);
    }

    // ----- the data model -----

    // parse splits an element into its generic path (indexes as n), the
    // indexes, and the arrays it goes through.
    parse(el) {
      const parts = el.split('.');
      const generic = [];
      const walk = [];
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (/^[0-9]+$/.test(p) && generic.length > 0 && this.arrays[generic.join('.')]) {
          walk.push({ array: parts.slice(0, i).join('.'), spec: this.arrays[generic.join('.')], index: Number(p), raw: p });
          generic.push('n');
        } else {
          generic.push(p);
        }
      }
      return { generic: generic.join('.'), walk };
    }

    count(arrayPath) { return this.counts[arrayPath] || 0; }

    get(el) {
      const c = this.codes;
      if (el === '') fail(c.getFail, 'GetValue needs an element');
      const { generic, walk } = this.parse(el);
      if (generic.endsWith('._count')) {
        const base = generic.slice(0, -'._count'.length);
        if (this.arrays[base]) {
          for (const w of walk) if (w.index >= this.count(w.array)) fail(c.getFail, w.array + ' has no element ' + w.index);
          return String(this.count(el.slice(0, -'._count'.length)));
        }
        if (this.model[base] || this.model[base + '._children'] || base === 'cmi') fail(c.count, el + ' is not an array');
        fail(c.undefinedEl, el + ' is not an element of the data model');
      }
      if (generic.endsWith('._children')) {
        const def = this.model[generic];
        if (def) {
          for (const w of walk) if (w.index >= this.count(w.array)) fail(c.getFail, w.array + ' has no element ' + w.index);
          return def.keyword;
        }
        const base = generic.slice(0, -'._children'.length);
        if (this.model[base] || this.arrays[base]) fail(c.children, el + ' has no children');
        fail(c.undefinedEl, el + ' is not an element of the data model');
      }
      if (generic.endsWith('._version') && generic !== 'cmi._version') fail(c.undefinedEl, el + ' is not an element of the data model');
      const def = this.model[generic];
      if (!def) fail(c.undefinedEl, el + ' is not an element of the data model');
      if (def.keyword) return def.keyword;
      if (def.access === 'w') fail(c.writeOnly, el + ' is write-only');
      for (const w of walk) if (w.index >= this.count(w.array)) fail(c.getFail, w.array + ' has no element ' + w.index);
      if (!this.is12) {
        if (el === 'cmi.completion_status') return this.completionStatus();
        if (el === 'cmi.success_status') return this.successStatus();
      }
      const v = this.values[el];
      if (v === undefined) {
        if (def.uninit) fail(c.uninit, el + ' has not been set');
        return '';
      }
      return v;
    }

    set(el, value) {
      const c = this.codes;
      if (el === '') fail(c.setFail, 'SetValue needs an element');
      const { generic, walk } = this.parse(el);
      const last = generic.slice(generic.lastIndexOf('.') + 1);
      if (last === '_children' || last === '_count' || last === '_version') {
        if (this.model[generic] || this.arrays[generic.slice(0, generic.lastIndexOf('.'))] || generic === 'cmi._version') {
          fail(c.keywordSet, el + ' is a keyword');
        }
        if (this.is12 && (this.model[generic.slice(0, generic.lastIndexOf('.'))])) fail(c.keywordSet, el + ' is a keyword');
        fail(c.undefinedEl, el + ' is not an element of the data model');
      }
      const def = this.model[generic];
      if (!def) fail(c.undefinedEl, el + ' is not an element of the data model');
      if (def.keyword || def.access === 'r') fail(c.readOnly, el + ' is read-only');
      // Arrays: an element exists or is the next one (RTE 3.4.4.4, 4.1.5).
      let created = null;
      for (let i = 0; i < walk.length; i++) {
        const w = walk[i];
        const n = this.count(w.array);
        if (w.raw.length > 1 && w.raw[0] === '0') fail(c.index, w.array + ': index ' + w.raw + ' is not a number in its plain form');
        if (w.index > n || (w.index === n && i < walk.length - 1)) {
          fail(c.index, w.array + ' has ' + n + ' elements: the next one is ' + n + ', not ' + w.index);
        }
        if (w.index === n) {
          if (n >= w.spec.max) fail(c.setFail, w.array + ' holds at most ' + w.spec.max + ' elements');
          created = w;
        }
      }
      const field = generic.slice(generic.lastIndexOf('.') + 1);
      if (!this.is12) this.dependencies(el, generic, walk, created, field, value);
      const check = def.check ? def.check(value) : 0;
      if (check !== 0) {
        const code = check === 'range' ? c.range : c.type;
        fail(code, value.length > 80 ? el + ': the value is not of the element\'s type' : el + ': "' + value + '" is not of the element\'s type or range');
      }
      if (!this.is12) this.valueRules(el, generic, walk, field, value);
      if (created) this.counts[created.array] = created.index + 1;
      this.values[el] = value;
      if (this.is12 && el === 'cmi.core.lesson_status') this.statusSet = true;
    }

    // dependencies checks SCORM 2004's order of setting: an objective or
    // interaction (and an interaction's objective) is created by its id;
    // the type of an interaction comes before its responses (RTE 4.2.9,
    // 4.2.17).
    dependencies(el, generic, walk, created, field, value) {
      const c = this.codes;
      if (created && created.spec.first && !(field === created.spec.first && generic === this.parse(created.array).generic + '.n.' + field)) {
        fail(c.dependency, created.array + '.' + created.index + '.' + created.spec.first + ' must be set first');
      }
      for (const w of walk) {
        if (w.spec.first && w !== created && w.index < this.count(w.array) && this.values[w.array + '.' + w.index + '.' + w.spec.first] === undefined) {
          fail(c.dependency, w.array + '.' + w.index + '.' + w.spec.first + ' must be set first');
        }
      }
      if (generic === 'cmi.interactions.n.learner_response' || generic === 'cmi.interactions.n.correct_responses.n.pattern') {
        const p = 'cmi.interactions.' + walk[0].index;
        if (this.values[p + '.type'] === undefined) fail(c.dependency, p + '.type must be set before responses');
      }
    }

    // valueRules checks what depends on other values: ids unique within
    // their array, responses of the interaction's type (RTE 4.2.9.2).
    valueRules(el, generic, walk, field, value) {
      const c = this.codes;
      if (generic === 'cmi.objectives.n.id' || generic === 'cmi.interactions.n.objectives.n.id') {
        const w = walk[walk.length - 1];
        for (let i = 0; i < this.count(w.array); i++) {
          if (i !== w.index && this.values[w.array + '.' + i + '.id'] === value) fail(c.setFail, 'the id ' + value + ' is already used in ' + w.array);
        }
        const cur = this.values[el];
        if (generic === 'cmi.objectives.n.id' && cur !== undefined && cur !== value) fail(c.setFail, 'an objective id cannot change once set');
      }
      if (generic === 'cmi.interactions.n.learner_response' || generic === 'cmi.interactions.n.correct_responses.n.pattern') {
        const p = 'cmi.interactions.' + walk[0].index;
        const type = this.values[p + '.type'];
        const pattern = generic.endsWith('pattern');
        if (pattern && !(type === 'choice' && value === '') && !responseOK(type, value, true)) fail(c.type, el + ': not a ' + type + ' pattern');
        if (!pattern && !responseOK(type, value, false)) fail(c.type, el + ': not a ' + type + ' response');
        if (pattern) {
          const w = walk[1];
          const max = maxPatterns[type];
          if (max !== undefined && w.index >= max) fail(c.setFail, 'a ' + type + ' interaction has at most ' + max + ' correct response pattern');
          for (let i = 0; i < this.count(w.array); i++) {
            if (i !== w.index && this.values[w.array + '.' + i + '.pattern'] === value) fail(c.setFail, 'this pattern is already a correct response');
          }
        }
      }
    }

    // The statuses SCORM 2004 evaluates from the thresholds (RTE 4.2.4.1,
    // 4.2.22.1).
    completionStatus() {
      const th = this.values['cmi.completion_threshold'];
      const pm = this.values['cmi.progress_measure'];
      if (th !== undefined) {
        if (pm !== undefined) return Number(pm) >= Number(th) ? 'completed' : 'incomplete';
        return 'unknown';
      }
      return this.values['cmi.completion_status'];
    }

    successStatus() {
      const sps = this.values['cmi.scaled_passing_score'];
      const sc = this.values['cmi.score.scaled'];
      if (sps !== undefined) {
        if (sc !== undefined) return Number(sc) >= Number(sps) ? 'passed' : 'failed';
        return 'unknown';
      }
      return this.values['cmi.success_status'];
    }

    // ----- commits -----

    // data is the runtime data in the shape of scorm-again's commit: the
    // cmi tree, arrays as objects keyed by index, write-only elements
    // included. On the terminating commit, total_time adds the session.
    data(terminate) {
      const cmi = {};
      const put = (path, v) => {
        const parts = path.split('.');
        let o = cmi;
        for (let i = 1; i < parts.length - 1; i++) {
          o[parts[i]] = o[parts[i]] || {};
          o = o[parts[i]];
        }
        o[parts[parts.length - 1]] = v;
      };
      for (const k of Object.keys(this.values).sort()) {
        if (!k.startsWith('cmi.')) continue;
        put(k, this.values[k]);
      }
      for (const k of Object.keys(this.counts)) {
        if (this.counts[k] === 0) continue;
        // an array whose elements hold no value yet still shows them
        for (let i = 0; i < this.counts[k]; i++) {
          const parts = (k + '.' + i).split('.');
          let o = cmi;
          for (let j = 1; j < parts.length; j++) { o[parts[j]] = o[parts[j]] || {}; o = o[parts[j]]; }
        }
      }
      if (this.is12) {
        const core = cmi.core;
        if (terminate) {
          if (core.lesson_status === 'not attempted') core.lesson_status = 'incomplete';
          core.total_time = formatTimespan(timespanSeconds(core.total_time) + timespanSeconds(core.session_time));
        }
      } else {
        cmi.completion_status = this.completionStatus();
        cmi.success_status = this.successStatus();
        if (terminate) cmi.total_time = formatDuration(durationSeconds(cmi.total_time) + durationSeconds(cmi.session_time));
      }
      const body = { cmi };
      if (terminate) body.terminate = true;
      return body;
    }

    commitNow(terminate) {
      const body = this.data(terminate);
      let ok = false;
      try {
        ok = this.transport(body);
      } catch (e) {
        ok = false;
      }
      if (!ok) fail(this.codes.commit, 'the runtime data could not be stored: the commit POST failed');
      if (terminate && this.is12) this.values['cmi.core.lesson_status'] = body.cmi.core.lesson_status;
    }
  }

  // dismissal is whether a watched window (this one, the SCO's frame) is
  // going away; leaving watches a window (see the comment at the top).
  let dismissal = false;
  const keepaliveLimit = 64 * 1024; // what browsers let a keepalive request carry

  function leaving(win) {
    if (!win || typeof win.addEventListener !== 'function') return;
    const mark = () => { dismissal = true; };
    win.addEventListener('pagehide', mark, true);
    // A page may stay after beforeunload (the learner cancels): then the
    // timer runs, which it does not once the page is gone.
    win.addEventListener('beforeunload', () => { dismissal = true; setTimeout(() => { dismissal = false; }, 0); }, true);
    win.addEventListener('pageshow', () => { dismissal = false; }, true);
  }

  // keepalive POSTs a commit that must outlive the page; it reports
  // whether the browser took the request.
  function keepalive(url, headers, json) {
    if (typeof fetch !== 'function' || new Blob([json]).size > keepaliveLimit) return false;
    try {
      fetch(url, { method: 'POST', keepalive: true, headers: Object.assign({ 'Content-Type': 'application/json' }, headers), body: json })
        .catch(() => {});
      return true;
    } catch (e) {
      return false;
    }
  }

  // xhrTransport POSTs a commit with a synchronous XMLHttpRequest (see the
  // comment at the top) and reports whether the LRS stored it; as the page
  // goes away, with keepalive.
  function xhrTransport(url, headers) {
    return (body) => {
      if (!url) return false;
      const json = JSON.stringify(body);
      if (dismissal && keepalive(url, headers || {}, json)) return true;
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url, false);
      xhr.setRequestHeader('Content-Type', 'application/json');
      for (const k of Object.keys(headers || {})) xhr.setRequestHeader(k, headers[k]);
      xhr.send(json);
      if (xhr.status < 200 || xhr.status > 299) return false;
      try {
        const ans = JSON.parse(xhr.responseText);
        if (ans && Object.prototype.hasOwnProperty.call(ans, 'result')) return ans.result === true || ans.result === T;
      } catch (e) {
        // not JSON: the status says it
      }
      return true;
    };
  }

  // api12 and api2004 are the objects a SCO finds (RTE 3.3 and 3.1).
  function api12(rt) {
    return {
      LMSInitialize: (a) => rt.initialize(a),
      LMSFinish: (a) => rt.terminate(a),
      LMSGetValue: (e) => rt.getValue(e),
      LMSSetValue: (e, v) => rt.setValue(e, v),
      LMSCommit: (a) => rt.commit(a),
      LMSGetLastError: () => rt.lastError(),
      LMSGetErrorString: (c) => rt.errorString(c),
      LMSGetDiagnostic: (c) => rt.errorDiagnostic(c),
    };
  }

  function api2004(rt) {
    return {
      version: '1.0',
      Initialize: (a) => rt.initialize(a),
      Terminate: (a) => rt.terminate(a),
      GetValue: (e) => rt.getValue(e),
      SetValue: (e, v) => rt.setValue(e, v),
      Commit: (a) => rt.commit(a),
      GetLastError: () => rt.lastError(),
      GetErrorString: (c) => rt.errorString(c),
      GetDiagnostic: (c) => rt.errorDiagnostic(c),
    };
  }

  // create returns the API object for init, committing through transport
  // (a function of the commit body returning whether it was stored;
  // default: a synchronous POST to init.commitUrl with init.commitHeaders).
  function create(init, transport) {
    const rt = new Runtime(init, transport || xhrTransport(init && init.commitUrl, init && init.commitHeaders));
    return init && init.version === '1.2' ? api12(rt) : api2004(rt);
  }

  // start creates the API and installs it where SCOs look for it:
  // window.API (1.2) or window.API_1484_11 (2004); commits made as this
  // window goes away are sent with keepalive.
  function start(init, transport) {
    leaving(global);
    const api = create(init, transport);
    if (init && init.version === '1.2') global.API = api;
    else global.API_1484_11 = api;
    return api;
  }

  // watch makes the commits of the SCO in the frame win keepalive ones as
  // its page goes away, until the frame loads again.
  function watch(win) {
    dismissal = false;
    leaving(win);
  }

  const LRSScorm = { create, start, watch };
  if (typeof module !== 'undefined' && module.exports) module.exports = LRSScorm;
  global.LRSScorm = LRSScorm;
})(typeof window !== 'undefined' ? window : globalThis);

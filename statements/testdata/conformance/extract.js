// usage: SUITE=/path/to/lrs-conformance-test-suite node extract.js v2_0 > $SRC_DIR/v2.json
var dir = process.argv[2];
process.env.DIRECTORY = dir;
process.env.EB_NODE_COMMAND = '1';
var suite = process.env.SUITE || '/work/conformance';
process.chdir(suite);
var helper = require(suite + '/test/helper.js');
var fs = require('fs');
var files = fs.readdirSync(suite + '/test/' + dir + '/configs');
var out = [];
files.forEach(function (file) {
  if (!file.endsWith('.js')) return;
  var cfg;
  try { cfg = helper.getSingleTestConfiguration(file); } catch (e) { console.error(file, e.message); return; }
  cfg.forEach(function (c) {
    c.config.forEach(function (t) {
      var data;
      try {
        if (t.templates) {
          var conv = helper.convertTemplate(t.templates);
          var mo = helper.createTestObject(conv);
          data = mo[Object.keys(mo)[0]];
        } else data = t.json;
      } catch (e) { console.error('ERR', file, t.name, e.message); return; }
      out.push({file: file, group: c.name, name: t.name, expect: t.expect, data: data});
    });
  });
});
console.log(JSON.stringify(out, null, 1));

// usage: SRC_DIR=dir-with-v1.json-and-v2.json node pack.js  (writes the .json.gz files next to this script)
const zlib = require('zlib'), fs = require('fs');
for (const [src, dst] of [['v1','v1_0_3'], ['v2','v2_0_0']]) {
  const a = require((process.env.SRC_DIR || '/tmp/sx') + '/' + src + '.json');
  const seen = new Set(), out = [];
  for (const x of a) {
    const body = JSON.stringify(x.data);
    const k = x.expect[0] + body;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({file: x.file, name: x.name, expect: x.expect[0], body: body});
  }
  const buf = zlib.gzipSync(JSON.stringify(out, null, 0), {level: 9});
  fs.writeFileSync(__dirname + '/' + dst + '.json.gz', buf);
  console.log(dst, out.length, buf.length);
}

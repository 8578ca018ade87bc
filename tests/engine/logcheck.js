// Reads engine logs with parsers that are not Solent's — heroku's logfmt for text lines,
// JSON.parse for json ones — and fails on any line that is not one event: a timestamp
// (RFC 3339, UTC, milliseconds), a known level, an event name, and keys that are names
// (a value that escaped its quotes would have made a key of its contents, or a line).
// usage: node logcheck.js FILE... ; prints "ok N lines" or each bad line's number.
'use strict';
const fs = require('fs');
const path = require('path');
const logfmt = require(path.join(__dirname, '..', 'fhir', 'node_modules', 'logfmt'));

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const LEVELS = new Set(['error', 'warn', 'info', 'debug']);
const NAME = /^[a-z_][a-z0-9_]*$/;
let bad = 0;
let lines = 0;
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    lines++;
    let rec;
    try {
      rec = line.startsWith('{') ? JSON.parse(line) : logfmt.parse(line);
    } catch (e) {
      rec = null;
    }
    const keys = rec ? Object.keys(rec) : [];
    const why = !rec ? 'does not parse'
      : keys[0] !== 'ts' || !TS.test(rec.ts) ? 'no ts first'
      : keys[1] !== 'level' || !LEVELS.has(rec.level) ? 'no level second'
      : keys[2] !== 'event' || !NAME.test(String(rec.event)) ? 'no event third'
      : keys.find((k) => !NAME.test(k)) !== undefined ? 'a key that is no name'
      : null;
    if (why) {
      bad++;
      console.log(`${file}:${i + 1}: ${why}: ${line.slice(0, 200)}`);
    }
  });
}
if (!bad) console.log(`ok ${lines} lines`);
process.exit(bad ? 1 : 0);

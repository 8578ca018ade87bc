// A second MLLP peer that is not ours: @medplum/hl7's Hl7Client (pinned in tests/fhir).
// usage: node medplum_send.js PORT PREFIX COUNT — sends COUNT ADT^A01 messages, one at a
// time, and prints one line per ACK: CONTROL_ID MSA-1 MSA-2.
'use strict';
const path = require('path');
const modules = path.join(__dirname, '..', 'fhir', 'node_modules');
const { Hl7Message } = require(path.join(modules, '@medplum', 'core'));
const { Hl7Client } = require(path.join(modules, '@medplum', 'hl7'));

async function main() {
  const [port, prefix, count] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
  const client = new Hl7Client({ host: '127.0.0.1', port });
  for (let i = 0; i < count; i++) {
    const id = `${prefix}${String(i).padStart(4, '0')}`;
    const text = [
      `MSH|^~\\&|PAS|RHM|SOLENT|TRUST|20261129083000+0000||ADT^A01^ADT_A01|${id}|P|2.5.1`,
      'EVN|A01|20261129083000+0000',
      'PID|1||9434765919^^^NHS^NH||Zebedee^Quentin||19850412|U',
      'PV1|1|I|WARD1^BED2^^RHM',
    ].join('\r');
    const ack = await client.sendAndWait(Hl7Message.parse(text));
    const msa = ack.getSegment('MSA');
    console.log(`${id} ${msa.getField(1).toString()} ${msa.getField(2).toString()}`);
  }
  await client.close();
}

main().catch((e) => {
  console.error(`medplum_send: ${e.message}`);
  process.exit(1);
});

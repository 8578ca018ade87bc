#!/usr/bin/env bash
# Converts our fixtures, the samples and (when present) the external corpus with the
# real `solent convert`, and validates every resource with the real FHIR validators
# (validate.js). Zero problems is the bar. usage: validate_outputs.sh SOLENT SOURCE_ROOT
set -u
solent=$1
root=$2
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/@medplum/core" ]; then
    echo "fhir validation: validators missing: run 'npm ci' in tests/fhir (./dev test does)"
    exit 1
fi
inputs=("$root/tests/data" "$root/conf/samples")
[ -d "$root/../shared/corpus" ] && inputs+=("$root/../shared/corpus")
# Messages Solent does not transform are reported on stderr; every bundle made is validated.
"$solent" convert --ident RHM:MR=https://fhir.rhm.example.nhs.uk/Id/mrn "${inputs[@]}" 2>/dev/null |
    node "$here/validate.js"

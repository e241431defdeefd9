// SPDX-License-Identifier: Apache-2.0
// Validates Kubernetes objects (a JSON array on stdin) against the OpenAPI
// schemas bundled in the npm package kubernetes-models: the offline
// equivalent of `kubectl apply --validate` for types and required fields.
// Used by check-manifests.py. Exit 0 when every object validates.
'use strict';
const path = require('path');

function modelFor(obj) {
  const [group, version] = obj.apiVersion.includes('/')
    ? obj.apiVersion.split('/')
    : [null, obj.apiVersion];
  const dir = group ? path.join(group, version) : version;
  return require(path.join(__dirname, 'node_modules', 'kubernetes-models', dir, obj.kind));
}

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  let failed = 0;
  for (const obj of JSON.parse(input)) {
    const name = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
    try {
      const Model = modelFor(obj)[obj.kind];
      new Model(obj).validate();
      console.log(`schema ok ${obj.apiVersion} ${name}`);
    } catch (e) {
      failed++;
      console.log(`schema FAIL ${obj.apiVersion} ${name}: ${e.message}`);
    }
  }
  process.exit(failed === 0 ? 0 : 1);
});

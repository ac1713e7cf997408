'use strict'
// Writes the string cases of node-semver's test fixtures as node-semver-fixtures.json:
//   node extract-fixtures.js /path/to/node-semver > node-semver-fixtures.json
const path = require('path')
const fixture = name => require(path.resolve(process.argv[2], 'test', 'fixtures', name))
const isString = x => typeof x === 'string'
const versions = []
const ranges = []
const satisfies = []
const intersects = []
const compare = []
for (const name of ['range-include', 'range-exclude', 'version-gt-range', 'version-lt-range',
  'version-not-gt-range', 'version-not-lt-range']) {
  for (const [r, v] of fixture(name)) {
    if (isString(r) && isString(v)) {
      satisfies.push([r, v])
    }
  }
}
for (const name of ['range-intersection', 'comparator-intersection']) {
  for (const [a, b] of fixture(name)) {
    if (isString(a) && isString(b)) {
      intersects.push([a, b])
    }
  }
}
for (const name of ['comparisons', 'equality']) {
  for (const [a, b] of fixture(name)) {
    if (isString(a) && isString(b)) {
      compare.push([a, b])
    }
  }
}
for (const [r, normalized] of fixture('range-parse')) {
  ranges.push(...[r, normalized].filter(isString))
}
for (const name of ['valid-versions', 'invalid-versions']) {
  versions.push(...fixture(name).map(c => c[0]).filter(isString))
}
for (const name of ['increments', 'truncations']) {
  for (const [v, , result] of fixture(name)) {
    versions.push(...[v, result].filter(isString))
  }
}
const unique = list => [...new Set(list)]
const out = { versions: unique(versions), ranges: unique(ranges), satisfies, intersects, compare }
const lists = Object.entries(out).map(([key, list]) =>
  ` ${JSON.stringify(key)}: [\n${list.map(c => '  ' + JSON.stringify(c)).join(',\n')}\n ]`)
process.stdout.write(`{\n${lists.join(',\n')}\n}\n`)

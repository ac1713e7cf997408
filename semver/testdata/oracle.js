'use strict'
// The other side of the differential test (../node_test.go): reads all cases as
// one JSON object on stdin, answers each with the npm semver package found in
// $MATRIX_NODE_SEMVER/node_modules, and writes the answers as JSON on stdout.

const path = require('path')
const main = require.resolve('semver', { paths: [process.env.MATRIX_NODE_SEMVER] })
const semver = require(main)

// node-semver throws on an invalid argument in some functions; null stands for that.
const attempt = fn => {
  try {
    return fn()
  } catch {
    return null
  }
}
const withPre = [{}, { includePrerelease: true }]

// semver.satisfies(v, r, o) is new Range(r, o).test(v), false where new Range
// throws (functions/satisfies.js); each Range is built once here, for speed.
const built = withPre.map(() => new Map())
const satisfies = (v, r, i) => {
  if (!built[i].has(r)) {
    built[i].set(r, attempt(() => new semver.Range(r, withPre[i])))
  }
  const range = built[i].get(r)
  return range !== null && range.test(v)
}

const answer = cases => ({
  semver: require(path.join(path.dirname(main), 'package.json')).version,
  node: process.version,
  versions: cases.versions.map(v => {
    const p = semver.parse(v)
    return p && {
      version: p.version,
      major: p.major,
      minor: p.minor,
      patch: p.patch,
      prerelease: p.prerelease.map(String),
      build: p.build,
    }
  }),
  ranges: cases.ranges.map(r => withPre.map(o => semver.validRange(r, o))),
  satisfies: cases.satisfies.map(([r, v]) => withPre.map((_, i) => satisfies(v, r, i))),
  intersects: cases.intersects.map(([a, b]) => withPre.map(o => attempt(() => semver.intersects(a, b, o)))),
  compare: cases.compare.map(([a, b]) => [
    attempt(() => semver.compare(a, b)),
    attempt(() => semver.compareBuild(a, b)),
  ]),
  sorts: cases.sorts.map(list => semver.sort(list.slice())),
})

const chunks = []
process.stdin.on('data', c => chunks.push(c))
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(answer(JSON.parse(Buffer.concat(chunks).toString('utf8')))))
})

// tests/integration/js/compare.js: kcat's records against the ones a script expected.
//   node compare.js EXPECTED.jsonl GOT.jsonl
// Both files hold one kcat -J object per line; "broker" is ignored. Records are matched by
// (topic, partition, offset) and must be equal field by field: timestamp and its type, key,
// payload, headers in order, null distinct from empty. Missing, extra and duplicated records
// fail. Prints the first differences; exit 0 when equal.
'use strict'

const fs = require('fs')

function load(file) {
  const text = fs.readFileSync(file, 'utf8')
  return text
    .split('\n')
    .filter(l => l.trim() !== '')
    .map((l, n) => {
      try {
        const r = JSON.parse(l)
        delete r.broker
        return r
      } catch (e) {
        throw new Error(`${file}:${n + 1}: not JSON: ${l.slice(0, 200)}`)
      }
    })
}

function index(records, file, problems) {
  const m = new Map()
  for (const r of records) {
    const k = `${r.topic}/${r.partition}@${r.offset}`
    if (m.has(k)) problems.push(`${file}: ${k} twice`)
    m.set(k, r)
  }
  return m
}

// Field order is irrelevant; nested arrays (headers) keep theirs.
function canonical(r) {
  const o = {}
  for (const k of Object.keys(r).sort()) o[k] = r[k]
  return JSON.stringify(o)
}

const [expFile, gotFile] = process.argv.slice(2)
if (!expFile || !gotFile) {
  console.error('usage: node compare.js EXPECTED.jsonl GOT.jsonl')
  process.exit(2)
}
const problems = []
const exp = index(load(expFile), 'expected', problems)
const got = index(load(gotFile), 'kcat', problems)
for (const [k, e] of exp) {
  const g = got.get(k)
  if (!g) problems.push(`${k}: missing from kcat's output`)
  else if (canonical(g) !== canonical(e))
    problems.push(
      `${k}: kcat read ${canonical(g).slice(0, 400)}\n    expected ${canonical(e).slice(0, 400)}`
    )
}
for (const k of got.keys()) if (!exp.has(k)) problems.push(`${k}: kcat read a record nobody sent`)

if (problems.length) {
  for (const p of problems.slice(0, 20)) console.log(`compare: ${p}`)
  if (problems.length > 20) console.log(`compare: ... ${problems.length - 20} more`)
  console.log(`compare: ${problems.length} differences in ${exp.size} expected records`)
  process.exit(1)
}
console.log(`compare: ${exp.size} records equal`)

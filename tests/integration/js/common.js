// tests/integration/js/common.js: what the kafkajs test scripts share: a client that records
// every warning and error kafkajs logs (a broker bug often shows there first, e.g. a response
// nobody asked for), and a list of named checks that prints each result and sets the exit code.
'use strict'

// Partitioners are chosen explicitly where it matters; the v2 default-partitioner notice is noise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel } = require('kafkajs')

const levelName = { [logLevel.ERROR]: 'ERROR', [logLevel.WARN]: 'WARN', [logLevel.INFO]: 'INFO' }

// Every script runs as: node SCRIPT.js BOOTSTRAP [more...]
function bootstrap() {
  const b = process.argv[2]
  if (!b || !/^[^:]+:\d+$/.test(b)) {
    console.error(`usage: node ${process.argv[1]} HOST:PORT ...`)
    process.exit(2)
  }
  return b
}

// logs collects { level, namespace, message } of WARN and ERROR lines.
function client(broker, clientId, logs, extra = {}) {
  return new Kafka({
    clientId,
    brokers: [broker],
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }) => {
      const line = { level: levelName[level] || level, namespace, message: log.message, log }
      logs.push(line)
      const { message, timestamp, logger, ...rest } = log
      console.error(`kafkajs ${line.level} ${namespace}: ${message} ${JSON.stringify(rest)}`)
    },
    ...extra,
  })
}

class Checks {
  // logs: the array given to client(); a case fails if kafkajs logged a WARN or ERROR while it
  // ran, unless the message matches one of the case's allowLogs.
  constructor(name, logs) {
    this.name = name
    this.logs = logs
    this.failed = []
    this.passed = 0
  }

  // Runs one named case; an exception fails it (and only it).
  async run(what, fn, { allowLogs = [] } = {}) {
    const mark = this.logs.length
    try {
      await fn()
      expectQuietLogs(this.logs, mark, allowLogs)
      this.passed++
      console.log(`${this.name}: ok: ${what}`)
    } catch (e) {
      this.failed.push(what)
      const detail = e && e.name && e.name.startsWith('KafkaJS') ? `${e.name}: ${e.message}` : e
      console.log(`${this.name}: FAIL: ${what}: ${detail && detail.stack ? detail.stack : detail}`)
    }
  }

  // Ends the script: 0 when every case passed.
  finish() {
    const all = this.passed + this.failed.length
    console.log(`${this.name}: ${this.passed} of ${all} cases passed`)
    if (this.failed.length) console.log(`${this.name}: failed: ${this.failed.join('; ')}`)
    process.exitCode = this.failed.length ? 1 : 0
  }
}

function expect(cond, msg) {
  if (!cond) throw new Error(msg)
}

function expectEqual(actual, wanted, what) {
  const a = JSON.stringify(actual)
  const w = JSON.stringify(wanted)
  if (a !== w) throw new Error(`${what}: got ${a}, wanted ${w}`)
}

// Fails on any WARN/ERROR kafkajs logged since mark (an index into logs), other than those
// allowed (regexps on the message, or on the message, a space and the log's error field).
function expectQuietLogs(logs, mark, allowed = []) {
  const text = l => `${l.message} ${(l.log && l.log.error) || ''}`
  const bad = logs
    .slice(mark)
    .filter(l => !allowed.some(re => re.test(l.message) || re.test(text(l))))
  if (bad.length)
    throw new Error(`kafkajs logged: ${bad.map(l => `${l.level} ${l.message}`).join(' | ')}`)
}

function str(v) {
  return v == null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)
}

// A kafkajs message m as `kcat -J` prints it once stored at topic/partition@offset (without
// "broker"): strings as UTF-8, null kept null, headers flattened in order, no headers key when
// there are none. m.timestamp must be set.
function kcatShape(topic, partition, offset, m) {
  const rec = { topic, partition, offset, tstype: 'create', ts: Number(m.timestamp) }
  const headers = []
  for (const [k, v] of Object.entries(m.headers || {}))
    for (const one of Array.isArray(v) ? v : [v]) headers.push(k, str(one))
  if (headers.length) rec.headers = headers
  rec.key = str(m.key)
  rec.payload = str(m.value)
  return rec
}

module.exports = { bootstrap, client, Checks, expect, expectEqual, expectQuietLogs, kcatShape }


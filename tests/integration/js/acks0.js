// tests/integration/js/acks0.js: a kafkajs 2.2.4 producer with acks 0 against taped.
//   node acks0.js HOST:PORT EXPECTED.jsonl
// 20 sends of 10 records (one gzip) to the one partition of kjs-acks0. kafkajs sends them
// without waiting for a response, so each send must resolve with no results; if the broker
// answered one anyway, kafkajs would log "Response without match" and the case fails. Then an
// acks -1 send on the same producer must get baseOffset 200: every acks 0 record was appended,
// in order, before it. EXPECTED.jsonl gets the 201 records for kcat and compare.js.
'use strict'

const fs = require('fs')
const { CompressionTypes } = require('kafkajs')
const { bootstrap, client, Checks, expect, expectEqual, kcatShape } = require('./common')

const broker = bootstrap()
const expectedFile = process.argv[3]
if (!expectedFile) {
  console.error('usage: node acks0.js HOST:PORT EXPECTED.jsonl')
  process.exit(2)
}
const logs = []
const kafka = client(broker, 'tape-acks0-test', logs)
const checks = new Checks('acks0', logs)
const topic = 'kjs-acks0'
const SENDS = 20
const PER_SEND = 10

async function main() {
  const admin = kafka.admin()
  await admin.connect()
  expectEqual(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }), true, 'create')
  const expected = []
  let clock = Date.now() - 60000
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()

  await checks.run(`acks 0: ${SENDS} sends resolve without a response`, async () => {
    const slowest = { ms: 0 }
    const start = process.hrtime.bigint()
    for (let s = 0; s < SENDS; s++) {
      const messages = []
      for (let i = 0; i < PER_SEND; i++) {
        const n = s * PER_SEND + i
        messages.push({
          key: `k${n}`,
          value: `acks0 record ${n}`,
          headers: { n: String(n) },
          timestamp: String(clock++),
        })
      }
      const t0 = process.hrtime.bigint()
      const send = { topic, acks: 0, messages }
      if (s === 7) send.compression = CompressionTypes.GZIP
      const results = await producer.send(send)
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if (ms > slowest.ms) Object.assign(slowest, { ms, s })
      expectEqual(results, [], `send ${s} results (acks 0 has none)`)
      messages.forEach((m, i) => expected.push(kcatShape(topic, 0, s * PER_SEND + i, m)))
    }
    const total = Number(process.hrtime.bigint() - start) / 1e6
    const slow = `${slowest.ms.toFixed(1)} ms (#${slowest.s})`
    console.log(`acks0: ${SENDS} sends in ${total.toFixed(1)} ms, slowest ${slow}`)
    // Nothing here waits on the broker; a send that took seconds waited for something.
    expect(total < 5000, `${SENDS} acks 0 sends took ${total} ms`)
  })

  await checks.run('acks -1 after them: baseOffset counts every acks 0 record', async () => {
    const m = { key: 'after', value: 'acks -1 after acks 0', timestamp: String(clock++) }
    const results = await producer.send({ topic, acks: -1, messages: [m] })
    expectEqual(
      results.map(r => [r.topicName, r.partition, r.errorCode, r.baseOffset]),
      [[topic, 0, 0, String(SENDS * PER_SEND)]],
      'results'
    )
    expected.push(kcatShape(topic, 0, SENDS * PER_SEND, m))
    const offsets = await admin.fetchTopicOffsets(topic)
    expectEqual(
      offsets.map(o => [o.partition, o.low, o.high]),
      [[0, '0', String(SENDS * PER_SEND + 1)]],
      'offsets'
    )
  })

  await producer.disconnect()
  await admin.disconnect()
  fs.writeFileSync(expectedFile, expected.map(r => JSON.stringify(r)).join('\n') + '\n')
}

main()
  .catch(e => {
    console.log(`acks0: FAIL: ${e.stack || e}`)
    checks.failed.push('main')
  })
  .finally(() => checks.finish())

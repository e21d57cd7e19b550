// tests/integration/js/produce.js: kafkajs 2.2.4 producers against taped, writing down exactly
// what each record should look like when read back.
//   node produce.js HOST:PORT EXPECTED.jsonl
// taped runs with num.partitions=3 (kafkajs_produce.sh). Three producers, one topic each, with
// 3 partitions: kjs-all (acks -1), kjs-one (acks 1), kjs-idem (idempotent: true,
// maxInFlightRequests: 1, so acks -1). The acks -1 producer also writes to kjs-auto, which only
// its Metadata request creates, and sends one batch spanning two topics. Each producer sends
// rounds of 12 records (keys or none, empty and null values, a 64 KiB value, repeated and
// empty headers, explicit partitions), one round gzip-compressed. A 1.1 MiB batch must be
// refused with MESSAGE_TOO_LARGE and leave nothing behind.
//
// Placement: a record's partition is the one it names, else kafkajs' default partitioner's
// (murmur2 of the key, computed here with another instance of it); the records of one send
// that share a partition are contiguous in it from the baseOffset kafkajs reports for that
// partition, which must equal the records written there before. EXPECTED.jsonl gets one line
// per record in kcat -J's shape; compare.js checks kcat's output against it.
'use strict'

const fs = require('fs')
const { CompressionTypes, Partitioners } = require('kafkajs')
const { bootstrap, client, Checks, expect, expectEqual, kcatShape } = require('./common')

const broker = bootstrap()
const expectedFile = process.argv[3]
if (!expectedFile) {
  console.error('usage: node produce.js HOST:PORT EXPECTED.jsonl')
  process.exit(2)
}
const logs = []
const kafka = client(broker, 'tape-produce-test', logs)
const checks = new Checks('produce', logs)
const partitionOf = Partitioners.DefaultPartitioner()
const PARTITIONS = 3

const expected = [] // kcat -J shaped records
const nextOffset = {} // topic -> [next offset per partition]
let clock = Date.now() - 3600 * 1000 // distinct, increasing CreateTime timestamps

function message(topic, round, i) {
  const ts = String(clock++)
  const tag = `${topic}/${round}/${i}`
  switch (i % 6) {
    case 0: // no key: an explicit partition
      return { partition: (round + i) % PARTITIONS, value: `plain ${tag}`, timestamp: ts }
    case 1: // text that JSON and kcat must carry through: quotes, escapes, multibyte
      return {
        key: `clé-ü-✓-${tag}`,
        value: `"quoted" \\ back\tslash\nnew line, comma=equals ✓ ${tag}`,
        headers: { a: '1', rep: ['x', 'y', 'z'] },
        timestamp: ts,
      }
    case 2: // an empty value and an empty header value
      return { key: `empty-${tag}`, value: '', headers: { empty: '' }, timestamp: ts }
    case 3: // a tombstone (kafkajs cannot send a null header value)
      return { key: `tomb-${tag}`, value: null, headers: { tomb: 'yes' }, timestamp: ts }
    case 4: // 64 KiB, once per round
      return {
        key: Buffer.from(`big-${tag}`),
        value: i === 4 ? `${tag} `.repeat(65536 / 8).slice(0, 65536) : `small ${tag}`,
        timestamp: ts,
      }
    default: // a key and an explicit partition: the partition wins
      return { key: `pinned-${tag}`, partition: 1, value: `pinned ${tag}`, timestamp: ts }
  }
}

async function partitionsOf(admin, topic) {
  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  return md.topics[0].partitions
}

// Checks kafkajs' send results against the placement of topicMessages and records the
// expected offsets. results: what send/sendBatch resolved with.
function place(topicMessages, metadata, results) {
  const groups = new Map() // "topic/partition" -> messages in send order
  for (const { topic, messages } of topicMessages)
    for (const m of messages) {
      const p =
        m.partition !== undefined
          ? m.partition
          : partitionOf({ topic, partitionMetadata: metadata[topic], message: m })
      const k = `${topic}/${p}`
      if (!groups.has(k)) groups.set(k, [])
      groups.get(k).push(m)
    }
  const got = results.map(r => `${r.topicName}/${r.partition}`).sort()
  expectEqual(got, [...groups.keys()].sort(), 'partitions in the send results')
  for (const r of results) {
    const next = nextOffset[r.topicName]
    const what = `${r.topicName}/${r.partition}`
    expectEqual(r.errorCode, 0, `${what} errorCode`)
    expectEqual(r.baseOffset, String(next[r.partition]), `${what} baseOffset`)
    expectEqual(r.logAppendTime, '-1', `${what} logAppendTime (CreateTime topic)`)
    expectEqual(r.logStartOffset, '0', `${what} logStartOffset`)
    for (const m of groups.get(what))
      expected.push(kcatShape(r.topicName, r.partition, next[r.partition]++, m))
  }
}

async function rounds(producer, topic, metadata, acks, extra = {}) {
  for (let round = 0; round < 4; round++) {
    const messages = []
    for (let i = 0; i < 12; i++) messages.push(message(topic, round, i))
    const send = { topic, messages, ...extra }
    if (acks !== undefined) send.acks = acks
    if (round === 3) send.compression = CompressionTypes.GZIP
    const results = await producer.send(send)
    place([{ topic, messages }], metadata, results)
  }
}

async function main() {
  const admin = kafka.admin()
  await admin.connect()
  const topics = ['kjs-all', 'kjs-one', 'kjs-idem']
  const create = topics.map(topic => ({ topic, numPartitions: PARTITIONS }))
  expectEqual(await admin.createTopics({ topics: create }), true, 'createTopics')
  const metadata = {}
  for (const t of [...topics, 'kjs-auto']) nextOffset[t] = new Array(PARTITIONS).fill(0)
  for (const t of topics) metadata[t] = await partitionsOf(admin, t)

  await checks.run('acks -1: keys, values, headers on 3 partitions, one round gzip', async () => {
    const producer = kafka.producer()
    await producer.connect()
    try {
      await rounds(producer, 'kjs-all', metadata, -1)
    } finally {
      await producer.disconnect()
    }
  })

  await checks.run('acks 1: the same records', async () => {
    const producer = kafka.producer()
    await producer.connect()
    try {
      await rounds(producer, 'kjs-one', metadata, 1)
    } finally {
      await producer.disconnect()
    }
  })

  await checks.run('idempotent, maxInFlightRequests 1: the same records', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      await rounds(producer, 'kjs-idem', metadata, undefined)
    } finally {
      await producer.disconnect()
    }
  }, { allowLogs: [/^Limiting retries for the idempotent producer/] })

  await checks.run('auto-creation by a producer, then one send to two topics', async () => {
    const producer = kafka.producer()
    await producer.connect()
    try {
      // The first send's Metadata request creates kjs-auto with num.partitions (3).
      const first = [{ partition: 2, key: 'auto', value: 'first', timestamp: String(clock++) }]
      const results = await producer.send({ topic: 'kjs-auto', messages: first })
      metadata['kjs-auto'] = await partitionsOf(admin, 'kjs-auto')
      expectEqual(metadata['kjs-auto'].length, PARTITIONS, 'kjs-auto partitions')
      place([{ topic: 'kjs-auto', messages: first }], metadata, results)
      const topicMessages = ['kjs-all', 'kjs-auto'].map(topic => ({
        topic,
        messages: Array.from({ length: 12 }, (_, i) => message(topic, 9, i)),
      }))
      place(topicMessages, metadata, await producer.sendBatch({ topicMessages, acks: -1 }))
    } finally {
      await producer.disconnect()
    }
  })

  await checks.run('a batch over message.max.bytes is refused, the next one lands', async () => {
    const producer = kafka.producer()
    await producer.connect()
    try {
      let err = null
      try {
        const big = { partition: 0, value: 'x'.repeat(1100 * 1024), timestamp: String(clock++) }
        await producer.send({ topic: 'kjs-all', messages: [big] })
      } catch (e) {
        err = e
      }
      expect(err, 'a 1.1 MiB batch was accepted (message.max.bytes is 1048588)')
      expectEqual((err.cause || err).type, 'MESSAGE_TOO_LARGE', `${err.name}: ${err.message}`)
      const m = [{ partition: 0, key: 'after-big', value: 'fits', timestamp: String(clock++) }]
      const results = await producer.send({ topic: 'kjs-all', messages: m })
      place([{ topic: 'kjs-all', messages: m }], metadata, results)
    } finally {
      await producer.disconnect()
    }
  }, { allowLogs: [/^Response Produce/, /MESSAGE_TOO_LARGE|larger than/i] })

  await checks.run('fetchTopicOffsets: high watermarks match what was sent', async () => {
    for (const t of [...topics, 'kjs-auto']) {
      const offsets = await admin.fetchTopicOffsets(t)
      offsets.sort((a, b) => a.partition - b.partition)
      expectEqual(
        offsets.map(o => [o.low, o.high]),
        nextOffset[t].map(n => ['0', String(n)]),
        `${t} offsets`
      )
    }
  })
  await admin.disconnect()

  expect(expected.length > 0, 'nothing was produced')
  fs.writeFileSync(expectedFile, expected.map(r => JSON.stringify(r)).join('\n') + '\n')
  console.log(`produce: ${expected.length} records expected in ${expectedFile}`)
}

main()
  .catch(e => {
    console.log(`produce: FAIL: ${e.stack || e}`)
    checks.failed.push('main')
  })
  .finally(() => checks.finish())

// tests/integration/js/groups.js: what the kafkajs consumer-group scripts (group_*.js) share:
// consumers with short timeouts (taped runs with group.initial.rebalance.delay.ms=0), a wait
// with a deadline, a producer of numbered records to chosen partitions, a consumer that writes
// down every record it is handed, and OffsetFetch straight to the coordinator, so null and ""
// metadata stay apart (admin.fetchOffsets turns both into null).
'use strict'

const { expect } = require('./common')

// Short timeouts so a rebalance takes well under a second and a lost member goes in 6 s.
const consumerOptions = {
  sessionTimeout: 6000,
  rebalanceTimeout: 10000,
  heartbeatInterval: 500,
  maxWaitTimeInMs: 200,
  retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
}

// What kafkajs logs while a group rebalances (a member joining or leaving): heartbeats that
// answer REBALANCE_IN_PROGRESS and the runner's "re-joining". Expected, not a broker fault.
const rebalanceLogs = [
  /^Response Heartbeat\(key: 12, version: \d+\) The group is rebalancing/,
  /^The group is rebalancing, re-joining/,
]

// The Kafka error name of a kafkajs error: its type, or (kafkajs wraps non-retriable protocol
// errors in a KafkaJSNonRetriableError that keeps only the message) the type whose message it
// carries.
function errorType(e) {
  if (e && e.type) return e.type
  const { errorCodes } = require('kafkajs/src/protocol/error')
  const c = errorCodes.find(c => e && c.message === e.message)
  return c ? c.type : undefined
}

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

// Polls cond (maybe async) every 50 ms until it is truthy; throws after ms with what.
async function waitFor(cond, ms, what) {
  const end = Date.now() + ms
  for (;;) {
    const v = await cond()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(50)
  }
}

// Sends count records to each of partitions, values `${tag}-p${p}-${i}`, acks -1, in one send.
// Returns { partition: [values in send order] }.
async function produceNumbered(producer, topic, partitions, count, tag) {
  const messages = []
  const sent = {}
  for (const p of partitions) {
    sent[p] = []
    for (let i = 0; i < count; i++) {
      const value = `${tag}-p${p}-${i}`
      sent[p].push(value)
      messages.push({ partition: p, key: `k${i}`, value })
    }
  }
  await producer.send({ topic, acks: -1, messages })
  return sent
}

// A consumer of groupId that subscribes to topic and records every message it is handed in
// seen (an array of { member, partition, offset, value }). opts: extra consumer options and
// run options (run: {...}), name (written into each record), onMessage(payload, consumer)
// after recording. Returns { consumer, name, memberId() } once run() was called.
async function startRecording(kafka, groupId, topic, seen, opts = {}) {
  const consumer = kafka.consumer({ groupId, ...consumerOptions, ...(opts.consumer || {}) })
  const state = { consumer, name: opts.name || groupId, member: null, crashes: [] }
  consumer.on(consumer.events.GROUP_JOIN, e => {
    state.member = e.payload.memberId
    state.assignment = e.payload.memberAssignment
  })
  consumer.on(consumer.events.CRASH, e => state.crashes.push(e.payload.error))
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    ...(opts.run || {}),
    eachMessage: async payload => {
      const { partition, message } = payload
      seen.push({
        member: state.name,
        partition,
        offset: Number(message.offset),
        value: message.value === null ? null : message.value.toString(),
      })
      if (opts.onMessage) await opts.onMessage(payload, consumer)
    },
  })
  return state
}

// The private Cluster of a Kafka client (kafkajs keeps it behind a Symbol): for requests no
// public API sends as is. Connected on return.
async function rawCluster(kafka) {
  const sym = Object.getOwnPropertySymbols(kafka).find(
    s => s.toString() === 'Symbol(private:Kafka:createCluster)'
  )
  expect(sym, 'kafkajs has no private:Kafka:createCluster (not 2.2.4?)')
  const cluster = kafka[sym]({})
  await cluster.connect()
  return cluster
}

// OffsetFetch (v4 from kafkajs) for groupId on the coordinator: { "topic/p": { offset,
// metadata } } with metadata exactly as the broker sent it (null or a string).
async function rawOffsetFetch(cluster, groupId, topics) {
  const coordinator = await cluster.findGroupCoordinator({ groupId })
  const { responses } = await coordinator.offsetFetch({ groupId, topics })
  const out = {}
  for (const { topic, partitions } of responses)
    for (const { partition, offset, metadata } of partitions)
      out[`${topic}/${partition}`] = { offset: String(offset), metadata }
  return out
}

// The members of seen (startRecording's records) that read partition p.
function readersOf(seen, p) {
  return [...new Set(seen.filter(r => r.partition === p).map(r => r.member))].sort()
}

module.exports = {
  consumerOptions,
  rebalanceLogs,
  errorType,
  sleep,
  waitFor,
  produceNumbered,
  startRecording,
  rawCluster,
  rawOffsetFetch,
  readersOf,
}

// tests/integration/js/group_crash.js: a kafkajs 2.2.4 group consumes while taped is killed
// with SIGKILL and restarted on the same port and data (group_kafkajs_crash.sh does that).
//   node group_crash.js HOST:PORT DIR
// Protocol with the shell: this script writes DIR/consuming once the group is Stable with its
// two consumers and records flow; the shell then kills taped, restarts it, and writes
// DIR/restarted. Meanwhile a producer sends numbered records (acks -1) to the 4 partitions of
// crash-topic, one small batch every 20 ms, noting each acknowledgement (partition, offset,
// value); two consumers (autoCommit) record what they read and every commit that was
// acknowledged (kafkajs's commitOffsets event).
// Checked, after the restart:
// - S8: the committed offsets taped answers right after it came back are at least the
//   highest commit acknowledged before the kill, per partition;
// - the group rejoined: Stable with two members again, and both consumers read records
//   produced after the restart;
// - nothing skipped: every partition was read contiguously from 0 to its end, each offset
//   with the value the producer's acknowledgement put there, and every acknowledged record
//   was read; the final committed offsets are the ends of the partitions.
'use strict'

const fs = require('fs')
const path = require('path')
const { bootstrap, client, Checks, expect, expectEqual } = require('./common')
const { rebalanceLogs, waitFor, startRecording, sleep } = require('./groups')

const broker = bootstrap()
const dir = process.argv[3]
if (!dir) {
  console.error('usage: node group_crash.js HOST:PORT DIR')
  process.exit(2)
}
const logs = []
// Patient clients: taped is gone for about a second.
const patient = { retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } }
const kafka = client(broker, 'crash-admin', logs, patient)
const admin = kafka.admin()
const checks = new Checks('group_crash', logs)
const topic = 'crash-topic'
const groupId = 'crash-g'
const PARTS = [0, 1, 2, 3]
// Whatever kafkajs logs while the broker is down or just restarted: connection errors,
// retries, the group's members unknown to the new coordinator, rejoins.
const outageLogs = [/./]

const acked = [] // { partition, offset, value, afterRestart }
const seen = []
const ackedCommits = {} // partition -> highest commit acknowledged (and the time)
let restarted = false

async function produceLoop(producer, stop) {
  let n = 0
  const failures = []
  while (!stop.now) {
    const messages = PARTS.map(p => ({ partition: p, value: `v${n}-p${p}` }))
    n++
    const after = restarted
    try {
      const res = await producer.send({ topic, acks: -1, messages })
      for (const r of res) {
        const value = messages.find(m => m.partition === r.partition).value
        acked.push({ partition: r.partition, offset: Number(r.baseOffset), value, after })
      }
    } catch (e) {
      failures.push(String(e)) // indeterminate: maybe stored, maybe not
    }
    await sleep(20)
  }
  return failures
}

async function committed() {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] })
  const parts = res[0].partitions.slice().sort((a, b) => a.partition - b.partition)
  return parts.map(p => Number(p.offset))
}

async function main() {
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] })
  const producer = kafka.producer({ allowAutoTopicCreation: false, ...patient })
  await producer.connect()
  const members = []
  for (const name of ['a', 'b']) {
    const m = await startRecording(client(broker, `crash-${name}`, logs, patient), groupId, topic,
      seen, { name, consumer: patient })
    m.consumer.on(m.consumer.events.COMMIT_OFFSETS, e => {
      for (const t of e.payload.topics)
        for (const p of t.partitions) {
          const o = Number(p.offset)
          if (!restarted && o > (ackedCommits[p.partition] || 0)) ackedCommits[p.partition] = o
        }
    })
    members.push(m)
  }
  const stop = { now: false }
  const producing = produceLoop(producer, stop)

  await checks.run('before the kill: Stable with two consumers reading', async () => {
    await waitFor(async () => {
      const { groups } = await admin.describeGroups([groupId])
      return groups[0].state === 'Stable' && groups[0].members.length === 2
    }, 20000, 'the group Stable with two members')
    await waitFor(() => members.every(m => seen.some(r => r.member === m.name)) &&
      Object.keys(ackedCommits).length === 4, 20000, 'both consumers reading and committing')
  }, { allowLogs: rebalanceLogs })
  fs.writeFileSync(path.join(dir, 'consuming'), '')

  // The shell kills taped now and restarts it.
  await waitFor(() => fs.existsSync(path.join(dir, 'restarted')), 60000, 'DIR/restarted')
  const commitsBefore = PARTS.map(p => ackedCommits[p] || 0)
  restarted = true

  await checks.run('S8: committed offsets after the restart >= acknowledged before', async () => {
    const now = await committed()
    for (const p of PARTS)
      expect(now[p] >= commitsBefore[p],
        `partition ${p}: committed ${now[p]} after the restart, ${commitsBefore[p]} before`)
    console.log(`group_crash: acknowledged commits before the kill ${commitsBefore}, after ${now}`)
  }, { allowLogs: outageLogs })

  await checks.run('the group rejoins and both consumers read new records', async () => {
    await waitFor(() => acked.filter(r => r.after).length >= 40, 30000,
      '40 records acknowledged after the restart')
    const firstAfter = {}
    for (const r of acked.filter(r => r.after))
      if (firstAfter[r.partition] === undefined) firstAfter[r.partition] = r.offset
    await waitFor(() => members.every(m =>
      seen.some(r => r.member === m.name && r.offset >= firstAfter[r.partition])),
    30000, 'both consumers reading records produced after the restart')
    await waitFor(async () => {
      const { groups } = await admin.describeGroups([groupId])
      return groups[0].state === 'Stable' && groups[0].members.length === 2
    }, 20000, 'the group Stable with two members again')
  }, { allowLogs: outageLogs })

  stop.now = true
  const failures = await producing
  const afterCount = acked.filter(r => r.after).length
  console.log(`group_crash: ${acked.length} records acknowledged (${afterCount} after the ` +
    `restart), ${failures.length} sends failed`)

  await checks.run('nothing skipped: every partition read from 0 to its end', async () => {
    const ends = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition)
      .map(p => Number(p.high))
    await waitFor(async () => (await committed()).every((o, p) => o === ends[p]), 30000,
      `committed offsets at the ends ${ends}`)
    for (const m of members) await m.consumer.disconnect()
    for (const m of members) expectEqual(m.crashes.map(String), [], `${m.name} crashes`)
    const read = new Map()
    for (const r of seen) {
      const k = `${r.partition}/${r.offset}`
      if (read.has(k)) expectEqual(r.value, read.get(k), `${k} read twice with different values`)
      read.set(k, r.value)
    }
    for (const p of PARTS)
      for (let o = 0; o < ends[p]; o++)
        expect(read.has(`${p}/${o}`), `partition ${p}: offset ${o} of ${ends[p]} was never read`)
    expectEqual(read.size, ends.reduce((a, b) => a + b, 0), 'records read')
    for (const r of acked)
      expectEqual(read.get(`${r.partition}/${r.offset}`), r.value,
        `the acknowledged record at ${r.partition}/${r.offset}`)
  }, { allowLogs: outageLogs })

  await producer.disconnect()
  await admin.disconnect()
  checks.finish()
  // kafkajs 2.2.4 can keep a socket or two it opened while reconnecting after the outage past
  // every disconnect(): leave anyway, with the exit code the checks set.
  setTimeout(() => process.exit(), 1000).unref()
}

main().catch(e => {
  console.log(`group_crash: FAIL: ${e.stack || e}`)
  process.exitCode = 1
})

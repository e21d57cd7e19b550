// tests/integration/js/cluster.js: kafkajs 2.2.4 against a three-broker taped cluster.
//   node cluster.js BROKER,BROKER,BROKER PHASE [KILLED]
// PHASE=setup: createTopics "kc" (3 partitions, replication factor 3); fetchTopicMetadata shows
//   three replicas and three in-sync replicas per partition with a leader among them; an
//   idempotent producer (acks -1) writes 100 records per partition; a consumer group reads
//   them all and commits 100 per partition (admin.fetchOffsets agrees). Prints the leader of
//   partition 0 and the group's coordinator as "leader=N coordinator=M".
// PHASE=after-kill (broker KILLED was killed with SIGKILL meanwhile): the cluster's metadata
//   lists two brokers and no partition led by KILLED; the producer writes 100 more per
//   partition through the new leaders; the group, on its new coordinator if it moved, reads
//   exactly offsets 100..199 of each partition: nothing committed is read again, nothing is
//   skipped.
'use strict'

const { client, Checks, expect, expectEqual } = require('./common')
const { waitFor, produceNumbered, startRecording, rawCluster } = require('./groups')

const brokers = (process.argv[2] || '').split(',')
const phase = process.argv[3]
const killed = Number(process.argv[4] || -1)
if (brokers.length < 3 || !['setup', 'after-kill'].includes(phase)) {
  console.error('usage: node cluster.js B1,B2,B3 setup|after-kill [KILLED]')
  process.exit(2)
}
const logs = []
// Retries that outlast a failover (the lease, broker.session.timeout.ms=3000 here, must expire
// before a new leader is elected): the common client's give up after about 2 s.
const retry = { retries: 12, initialRetryTime: 200, maxRetryTime: 2000 }
const kc = id => client(brokers[0], id, logs, { brokers, retry })
const kafka = kc('kc-admin')
const admin = kafka.admin()
const checks = new Checks('cluster', logs)
const TOPIC = 'kc'
const GROUP = 'kc-group'
const PARTS = [0, 1, 2]

// The common client limits retries (kafkajs warns that it weakens idempotence); the first
// FindCoordinator of a cluster is answered COORDINATOR_NOT_AVAILABLE while __consumer_offsets
// is created (Kafka's behaviour too: kafkajs retries).
const setupLogs = [/Limiting retries for the idempotent producer/, /coordinator is not available/]
// The transient errors of a failover that kafkajs logs while it retries on the new leader.
const failoverLogs = [
  ...setupLogs,
  /connect|Connection|ECONNREFUSED|leader|LEADER|not the leader|coordinator|COORDINATOR|rebalanc|Request .* timed out|NOT_ENOUGH|retry|Retry/i,
]

async function readAll(from, to) {
  const seen = []
  const m = await startRecording(kc(`kc-${phase}`), GROUP, TOPIC, seen, {
    run: { autoCommit: true, autoCommitInterval: 100 },
  })
  const counts = () =>
    PARTS.map(p => `p${p}: ${seen.filter(r => r.partition === p).length} records`).join(', ')
  try {
    await waitFor(
      () => PARTS.every(p => seen.some(r => r.partition === p && r.offset === to - 1)),
      30000,
      `every partition read up to ${to - 1}`
    )
  } catch (e) {
    throw new Error(`${e.message} (read: ${counts()}; member ${m.member}, assignment ` +
      `${JSON.stringify(m.assignment)})`)
  }
  for (const p of PARTS) {
    const offsets = new Set(seen.filter(r => r.partition === p).map(r => r.offset))
    const below = [...offsets].filter(o => o < from)
    expect(below.length === 0, `p${p}: re-read ${below.slice(0, 5)} below ${from}`)
    for (let o = from; o < to; o++) expect(offsets.has(o), `p${p}: offset ${o} skipped`)
  }
  await waitFor(
    async () => {
      const res = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
      return res[0].partitions.every(p => Number(p.offset) === to)
    },
    20000,
    `the group's commits reach ${to}`
  )
  await m.consumer.disconnect()
  expectEqual(m.crashes.map(String), [], 'consumer crashes')
}

async function main() {
  await admin.connect()
  if (phase === 'setup') {
    await checks.run('createTopics with replication factor 3', async () => {
      expectEqual(
        await admin.createTopics({
          topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }],
          waitForLeaders: true,
        }),
        true,
        'created'
      )
      await waitFor(
        async () => {
          const md = await admin.fetchTopicMetadata({ topics: [TOPIC] })
          return md.topics[0].partitions.every(p => p.isr.length === 3)
        },
        30000,
        'full ISR'
      )
      const md = await admin.fetchTopicMetadata({ topics: [TOPIC] })
      for (const p of md.topics[0].partitions) {
        expectEqual(p.replicas.length, 3, `p${p.partitionId} replicas`)
        expect(p.replicas.includes(p.leader), `p${p.partitionId} leader among its replicas`)
      }
    })
    await checks.run('idempotent acks=-1 produce, group reads and commits', async () => {
      const producer = kc('kc-producer').producer({ idempotent: true, maxInFlightRequests: 1 })
      await producer.connect()
      await produceNumbered(producer, TOPIC, PARTS, 100, 'a')
      await producer.disconnect()
      await readAll(0, 100)
    }, { allowLogs: setupLogs })
    const md = await admin.fetchTopicMetadata({ topics: [TOPIC] })
    const cluster = await rawCluster(kc('kc-raw'))
    const coord = await cluster.findGroupCoordinator({ groupId: GROUP })
    await cluster.disconnect()
    console.log(`leader=${md.topics[0].partitions.find(p => p.partitionId === 0).leader} ` +
      `coordinator=${coord.nodeId}`)
  } else {
    await checks.run(`broker ${killed} gone from the metadata`, async () => {
      await waitFor(
        async () => {
          const md = await admin.fetchTopicMetadata({ topics: [TOPIC] })
          return md.topics[0].partitions.every(p => p.leader >= 0 && p.leader !== killed)
        },
        30000,
        'new leaders'
      )
      const desc = await admin.describeCluster()
      expectEqual(desc.brokers.length, 2, 'live brokers')
      expect(!desc.brokers.some(b => b.nodeId === killed), 'the killed broker is not listed')
    }, { allowLogs: failoverLogs })
    await checks.run('produce through the new leaders, the group resumes', async () => {
      const producer = kc('kc-producer2').producer({ idempotent: true, maxInFlightRequests: 1 })
      await producer.connect()
      await produceNumbered(producer, TOPIC, PARTS, 100, 'b')
      await producer.disconnect()
      await readAll(100, 200)
    }, { allowLogs: failoverLogs })
  }
  await admin.disconnect()
  checks.finish()
}

main().catch(e => {
  console.log(`cluster: FAIL: ${e && e.stack ? e.stack : e}`)
  process.exitCode = 1
})

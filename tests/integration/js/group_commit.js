// tests/integration/js/group_commit.js: a kafkajs 2.2.4 consumer group commits offsets in
// taped and resumes from them.
//   node group_commit.js HOST:PORT PHASE
// taped runs with group.initial.rebalance.delay.ms=0 (group_kafkajs_commit.sh). Two consumers
// (two clients, one process) share a 4-partition topic.
//   PHASE=run: the two cases below; PHASE=after-restart: the committed offsets and metadata
//   that "run" left are still there after taped restarted.
// autoCommit: 40 records per partition are read and auto-committed (fetchOffsets = 40 each);
//   the consumers disconnect, 20 more per partition are produced, two new consumers read
//   exactly offsets 40..59 (none below) and commit 60.
// manual commitOffsets: every record is processed, but only offsets below 25 are committed
//   (offset + 1, with metadata: p0 a string with quotes and multibyte characters, p1 "", p2
//   null, p3 4096 bytes, Kafka's limit); 4097 bytes are refused with OFFSET_METADATA_TOO_LARGE
//   and change nothing. The next consumers read exactly 25..59 on each partition: the
//   uncommitted tail again, the new records, nothing before. OffsetFetch on the coordinator
//   returns each metadata exactly (null and "" apart); admin.fetchOffsets agrees (it maps ""
//   to null itself).
// A group with standalone commits is deleted (deleteGroups): its offsets are gone.
// After the restart: the offsets and metadata above are all there, the two groups are Empty
// and listed, the deleted group is Dead and has no offsets.
'use strict'

const { bootstrap, client, Checks, expect, expectEqual } = require('./common')
const {
  rebalanceLogs,
  errorType,
  waitFor,
  produceNumbered,
  startRecording,
  rawCluster,
  rawOffsetFetch,
  sleep,
  readersOf,
} = require('./groups')

const broker = bootstrap()
const phase = process.argv[3] || 'run'
const logs = []
const kafka = client(broker, 'gc-admin', logs)
const admin = kafka.admin()
const checks = new Checks('group_commit', logs)

const PARTS = [0, 1, 2, 3]
const FIRST = 40 // records per partition before the consumers stop
const MORE = 20 // records per partition produced while no consumer runs
const MANUAL_UPTO = 25 // manual case: offsets below this are committed
// Kafka's limit (offset.metadata.max.bytes 4096) counts the string's bytes: 4096 ASCII ones.
const metaLimit = 'L'.repeat(4096)

// The metadata committed with offset o (the commit "o + 1") of partition p, manual case.
function metadataOf(p, o) {
  switch (p) {
    case 0:
      return `p0 "quoted" \\ ✓ clé ${o}`
    case 1:
      return ''
    case 2:
      return null
    default:
      return o === MANUAL_UPTO - 1 ? metaLimit : `p3 ${o}`
  }
}

// The metadata of the second round's commits (all offsets), kept through a restart of taped.
function metadataRound2(p) {
  return [`round 2 ✓ ${p}`, '', null, metaLimit][p]
}

async function committed(groupId, topic) {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] })
  expectEqual(res.length, 1, 'fetchOffsets topics')
  const parts = res[0].partitions.slice().sort((a, b) => a.partition - b.partition)
  return parts
}

async function offsetsOf(groupId, topic) {
  return (await committed(groupId, topic)).map(p => p.offset)
}

// Two consumers in groupId on topic, recording into seen; waits until the group is Stable with
// both (describeGroups) so every partition has its owner.
async function startPair(groupId, topic, seen, opts = {}) {
  const a = await startRecording(client(broker, `${groupId}-a`, logs), groupId, topic, seen, {
    ...opts,
    name: 'a',
  })
  const b = await startRecording(client(broker, `${groupId}-b`, logs), groupId, topic, seen, {
    ...opts,
    name: 'b',
  })
  await waitFor(
    async () => {
      const { groups } = await admin.describeGroups([groupId])
      return groups[0].state === 'Stable' && groups[0].members.length === 2
    },
    20000,
    `${groupId} Stable with two members`
  )
  return [a, b]
}

async function stopAll(members) {
  for (const m of members) await m.consumer.disconnect()
  for (const m of members) expectEqual(m.crashes.map(String), [], `${m.name} crashes`)
}

// seen holds exactly the offsets [from[p], to) of every partition (each at least once), with
// the values produced there; nothing else.
function expectExactly(seen, from, to, values, what) {
  for (const p of PARTS) {
    const got = new Map()
    for (const r of seen.filter(r => r.partition === p)) got.set(r.offset, r.value)
    const below = [...got.keys()].filter(o => o < from[p])
    expect(below.length === 0, `${what}: p${p} re-read offsets ${below} below ${from[p]}`)
    const above = [...got.keys()].filter(o => o >= to)
    expect(above.length === 0, `${what}: p${p} read offsets ${above} at or past ${to}`)
    for (let o = from[p]; o < to; o++) {
      expect(got.has(o), `${what}: p${p} offset ${o} was not read`)
      expectEqual(got.get(o), values[p][o], `${what}: p${p} offset ${o} value`)
    }
  }
}

async function autoCommitCase(producer) {
  const topic = 'gc-auto'
  const groupId = 'gc-auto-g'
  const values = {}
  await checks.run('autoCommit: two consumers read 4 partitions and commit', async () => {
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] })
    const seen = []
    const pair = await startPair(groupId, topic, seen)
    const sent = await produceNumbered(producer, topic, PARTS, FIRST, 'r1')
    for (const p of PARTS) values[p] = sent[p]
    await waitFor(() => new Set(seen.map(r => `${r.partition}/${r.offset}`)).size === 160,
      20000, 'all 160 records read')
    // autoCommit commits after every batch: the last one lands shortly after it was read.
    await waitFor(async () => (await offsetsOf(groupId, topic)).every(o => o === String(FIRST)),
      10000, `committed offsets ${FIRST} on every partition`)
    await stopAll(pair)
    // Produced once the group was Stable with both: each partition is read by one member.
    const owners = PARTS.map(p => readersOf(seen, p))
    expect(owners.every(o => o.length === 1), `owners per partition ${JSON.stringify(owners)}`)
    expectEqual([...new Set(owners.flat())].sort(), ['a', 'b'], 'members that read records')
    expectEqual(await offsetsOf(groupId, topic), PARTS.map(() => String(FIRST)),
      'committed after disconnect')
    expectExactly(seen, PARTS.map(() => 0), FIRST, values, 'first read')
  }, { allowLogs: rebalanceLogs })

  await checks.run('autoCommit: new consumers resume at the committed offsets', async () => {
    const sent = await produceNumbered(producer, topic, PARTS, MORE, 'r2')
    for (const p of PARTS) values[p] = values[p].concat(sent[p])
    const seen = []
    const pair = await startPair(groupId, topic, seen)
    const total = FIRST + MORE
    await waitFor(async () => (await offsetsOf(groupId, topic)).every(o => o === String(total)),
      20000, `committed offsets ${total} on every partition`)
    await sleep(300) // anything read twice or from before would show now
    await stopAll(pair)
    expectExactly(seen, PARTS.map(() => FIRST), total, values, 'after resuming')
  }, { allowLogs: rebalanceLogs })
}

async function manualCommitCase(producer, cluster) {
  const topic = 'gc-manual'
  const groupId = 'gc-manual-g'
  const values = {}
  const total = FIRST + MORE
  const commitBelow = async ({ topic: t, partition, message }, consumer) => {
    const o = Number(message.offset)
    if (o >= MANUAL_UPTO) return
    // After "processing" (recording) it: commit the next offset to read.
    await consumer.commitOffsets([
      { topic: t, partition, offset: String(o + 1), metadata: metadataOf(partition, o) },
    ])
  }

  await checks.run('manual commitOffsets: commits with metadata, up to offset 25', async () => {
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] })
    const seen = []
    const pair = await startPair(groupId, topic, seen, {
      run: { autoCommit: false },
      onMessage: commitBelow,
    })
    const sent = await produceNumbered(producer, topic, PARTS, FIRST, 'm1')
    for (const p of PARTS) values[p] = sent[p]
    await waitFor(() => new Set(seen.map(r => `${r.partition}/${r.offset}`)).size === 160,
      20000, 'all 160 records read')
    await sleep(300)
    await stopAll(pair)
    expectExactly(seen, PARTS.map(() => 0), FIRST, values, 'first read')
    expectEqual(await offsetsOf(groupId, topic), PARTS.map(() => String(MANUAL_UPTO)),
      'committed offsets')
  }, { allowLogs: rebalanceLogs })

  await checks.run('manual commitOffsets: metadata comes back exactly', async () => {
    await expectManualMetadata(cluster, groupId, topic, String(MANUAL_UPTO))
  })

  await checks.run('manual commitOffsets: 4097 bytes of metadata are refused', async () => {
    // A consumer that commits once, with too much metadata, on its first record.
    const seen = []
    let err = null
    const one = await startRecording(client(broker, `${groupId}-big`, logs), groupId, topic, seen, {
      name: 'big',
      run: { autoCommit: false },
      onMessage: async ({ partition, message }, consumer) => {
        if (err !== null) return
        try {
          await consumer.commitOffsets([
            {
              topic,
              partition,
              offset: String(Number(message.offset) + 1),
              metadata: 'x'.repeat(4097),
            },
          ])
          err = 'none'
        } catch (e) {
          err = e
        }
      },
    })
    await waitFor(() => err !== null, 20000, 'the oversized commit')
    await one.consumer.disconnect()
    expect(err !== 'none', 'a commit with 4097 bytes of metadata succeeded')
    expectEqual(errorType(err), 'OFFSET_METADATA_TOO_LARGE', `error ${err}`)
    await expectManualMetadata(cluster, groupId, topic, String(MANUAL_UPTO))
  }, { allowLogs: [/^Response OffsetCommit\(key: 8, version: \d+\) The metadata field/] })

  await checks.run('manual commitOffsets: new consumers resume at 25, not at 40', async () => {
    const sent = await produceNumbered(producer, topic, PARTS, MORE, 'm2')
    for (const p of PARTS) values[p] = values[p].concat(sent[p])
    const seen = []
    const pair = await startPair(groupId, topic, seen, {
      run: { autoCommit: false },
      onMessage: async ({ topic: t, partition, message }, consumer) => {
        await consumer.commitOffsets([
          {
            topic: t,
            partition,
            offset: String(Number(message.offset) + 1),
            metadata: metadataRound2(partition),
          },
        ])
      },
    })
    await waitFor(async () => (await offsetsOf(groupId, topic)).every(o => o === String(total)),
      20000, `committed offsets ${total} on every partition`)
    await sleep(300)
    await stopAll(pair)
    expectExactly(seen, PARTS.map(() => MANUAL_UPTO), total, values, 'after resuming')
    await expectRound2(cluster)
  }, { allowLogs: rebalanceLogs })
}

// OffsetFetch answers the manual case's last commits: offset `offset`, metadata of offset 24.
async function expectManualMetadata(cluster, groupId, topic, offset) {
  const want = PARTS.map(p => metadataOf(p, MANUAL_UPTO - 1))
  const raw = await rawOffsetFetch(cluster, groupId, allOf(topic))
  for (const p of PARTS)
    expectEqual(raw[`${topic}/${p}`], { offset, metadata: want[p] }, `OffsetFetch p${p}`)
  const viaAdmin = await committed(groupId, topic)
  expectEqual(viaAdmin.map(p => [p.offset, p.metadata]),
    PARTS.map(p => [offset, want[p] === '' ? null : want[p]]), 'admin.fetchOffsets')
}

function allOf(topic) {
  return [{ topic, partitions: PARTS.map(partition => ({ partition })) }]
}

// The manual group's offsets after its second round: 60 everywhere, metadataRound2.
async function expectRound2(cluster) {
  const raw = await rawOffsetFetch(cluster, 'gc-manual-g', allOf('gc-manual'))
  for (const p of PARTS)
    expectEqual(raw[`gc-manual/${p}`],
      { offset: String(FIRST + MORE), metadata: metadataRound2(p) }, `OffsetFetch p${p}`)
}

// A group with standalone commits (generation -1, no member), then deleted: its offsets are
// gone now and, after a restart, still gone (the deletion is durable too).
async function deletedGroupCase(cluster) {
  await checks.run('a deleted group: its offsets are gone', async () => {
    const groupId = 'gc-deleted-g'
    const coordinator = await cluster.findGroupCoordinator({ groupId })
    await coordinator.offsetCommit({
      groupId,
      memberId: '',
      groupGenerationId: -1,
      topics: [{ topic: 'gc-auto', partitions: PARTS.map(p => ({ partition: p, offset: '5' })) }],
    })
    expectEqual(await offsetsOf(groupId, 'gc-auto'), PARTS.map(() => '5'), 'committed')
    const res = await admin.deleteGroups([groupId])
    expectEqual(res.map(r => r.errorCode), [0], 'deleteGroups')
    expectEqual(await offsetsOf(groupId, 'gc-auto'), PARTS.map(() => '-1'), 'after deleting')
  })
}

async function run() {
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const cluster = await rawCluster(kafka)
  try {
    await autoCommitCase(producer)
    await manualCommitCase(producer, cluster)
    await deletedGroupCase(cluster)
  } finally {
    await producer.disconnect()
    await cluster.disconnect()
  }
}

// After a restart of taped: what run() left committed is still there, metadata included.
async function afterRestart() {
  const cluster = await rawCluster(kafka)
  try {
    await checks.run('after a restart: the autoCommit offsets', async () => {
      expectEqual(await offsetsOf('gc-auto-g', 'gc-auto'), PARTS.map(() => String(FIRST + MORE)),
        'gc-auto-g')
    })
    await checks.run('after a restart: the manual offsets and metadata', async () => {
      await expectRound2(cluster)
    })
    await checks.run('after a restart: the groups with offsets are Empty; the deleted is Dead',
      async () => {
        const { groups } = await admin.describeGroups(['gc-auto-g', 'gc-manual-g', 'gc-deleted-g'])
        expectEqual(groups.map(g => [g.groupId, g.errorCode, g.state, g.members]), [
          ['gc-auto-g', 0, 'Empty', []],
          ['gc-manual-g', 0, 'Empty', []],
          ['gc-deleted-g', 0, 'Dead', []],
        ], 'describeGroups')
        const listed = (await admin.listGroups()).groups.map(g => g.groupId).sort()
        expectEqual(listed, ['gc-auto-g', 'gc-manual-g'], 'listGroups')
        expectEqual(await offsetsOf('gc-deleted-g', 'gc-auto'), PARTS.map(() => '-1'),
          'the deleted group\'s offsets')
      })
  } finally {
    await cluster.disconnect()
  }
}

async function main() {
  await admin.connect()
  try {
    if (phase === 'after-restart') await afterRestart()
    else await run()
  } finally {
    await admin.disconnect()
  }
  checks.finish()
}

main().catch(e => {
  console.log(`group_commit: FAIL: ${e.stack || e}`)
  process.exitCode = 1
})

// tests/integration/js/group_admin.js: the kafkajs 2.2.4 admin client's group calls against
// taped's group coordinator.
//   node group_admin.js HOST:PORT
// taped runs with group.initial.rebalance.delay.ms=0 (group_kafkajs_admin.sh). Topic ga-topic
// has 4 partitions and 10 records in each.
// - describeGroups of a group with two running consumers: Stable, protocol type "consumer",
//   protocol RoundRobinAssigner, both members with their member id, client id and host
//   ("/127.0.0.1"); each member's metadata and assignment decode with kafkajs's
//   AssignerProtocol: the subscribed topic, and the partitions the consumer itself was given,
//   round robin over the sorted member ids (disjoint, together all four).
// - listGroups lists it with protocol type "consumer".
// - deleteGroups is refused (NON_EMPTY_GROUP) while the members are there and changes nothing;
//   a standalone commit (generation -1, no member) into the running group is refused
//   (UNKNOWN_MEMBER_ID); setOffsets is refused by kafkajs, which reads the state first.
// - once the consumers left: Empty without members, offsets 10 everywhere; deleteGroups works,
//   the offsets are gone (-1), the group is Dead and unlisted, and a new consumer of that group
//   reads from the beginning again. Deleting an unknown group: GROUP_ID_NOT_FOUND.
// - describeGroups of a group that never existed: Dead, no members, error 0.
// - setOffsets on a new group and resetOffsets (earliest, latest via resolveOffsets) on the
//   then Empty group; a consumer of it starts exactly at the offsets set. A standalone
//   OffsetCommit (what Java's AdminClient does) into an Empty group works and is fetched back;
//   fetchOffsets without topics (OffsetFetch with null topics) answers every topic committed.
// - describeGroups of a group that rebalances (one member stalls in eachMessage and does not
//   rejoin): PreparingRebalance, no protocol, both members without metadata or assignment
//   (Kafka's summaryNoMetadata).
'use strict'

const { AssignerProtocol } = require('kafkajs')
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
} = require('./groups')

const broker = bootstrap()
const logs = []
const kafka = client(broker, 'ga-admin', logs)
const admin = kafka.admin()
const checks = new Checks('group_admin', logs)

const topic = 'ga-topic'
const PARTS = [0, 1, 2, 3]
const PER_PARTITION = 10

async function describe(groupId) {
  const { groups } = await admin.describeGroups([groupId])
  expectEqual(groups.length, 1, 'describeGroups groups')
  return groups[0]
}

async function offsets(groupId) {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] })
  return res[0].partitions
    .slice()
    .sort((a, b) => a.partition - b.partition)
    .map(p => p.offset)
}

async function listed() {
  const { groups } = await admin.listGroups()
  return groups
}

// A consumer of groupId recording into seen as name, its client id "ga-" and name.
function consumer(groupId, name, seen) {
  return startRecording(client(broker, `ga-${name}`, logs), groupId, topic, seen, { name })
}

// Two recording consumers of groupId, clients "ga-c1" and "ga-c2"; Stable with both.
async function startTwo(groupId, seen) {
  const one = await consumer(groupId, 'c1', seen)
  const two = await consumer(groupId, 'c2', seen)
  await waitFor(async () => {
    const g = await describe(groupId)
    const ids = g.members.map(m => m.memberId).sort()
    return (
      g.state === 'Stable' &&
      ids.length === 2 &&
      JSON.stringify(ids) === JSON.stringify([one.member, two.member].sort())
    )
  }, 20000, `${groupId} Stable with ga-c1 and ga-c2`)
  return [one, two]
}

async function expectDeleteError(groupIds, want) {
  let err = null
  try {
    await admin.deleteGroups(groupIds)
  } catch (e) {
    err = e
  }
  expect(err, `deleteGroups ${groupIds} succeeded`)
  expectEqual(err.name, 'KafkaJSDeleteGroupsError', `error ${err}`)
  expectEqual(err.groups.map(g => [g.groupId, g.errorCode]), want, 'deleteGroups results')
}

// A standalone OffsetCommit: generation -1, no member id (what admin tools send).
async function standaloneCommit(cluster, groupId, partitions) {
  const coordinator = await cluster.findGroupCoordinator({ groupId })
  return coordinator.offsetCommit({
    groupId,
    memberId: '',
    groupGenerationId: -1,
    topics: [{ topic, partitions }],
  })
}

async function main() {
  await admin.connect()
  const cluster = await rawCluster(kafka)
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] })
  await produceNumbered(producer, topic, PARTS, PER_PARTITION, 'ga')

  const groupId = 'ga-g'
  let seen = []
  let members = []
  await checks.run('describeGroups: Stable, two members, RoundRobinAssigner', async () => {
    members = await startTwo(groupId, seen)
    const g = await describe(groupId)
    expectEqual(
      [g.errorCode, g.groupId, g.state, g.protocolType, g.protocol],
      [0, groupId, 'Stable', 'consumer', 'RoundRobinAssigner'],
      'group'
    )
    const byId = new Map(g.members.map(m => [m.memberId, m]))
    const sorted = members.map(m => m.member).sort()
    for (const c of members) {
      const m = byId.get(c.member)
      expect(m, `member ${c.member} of ${c.name} not described`)
      expectEqual([m.clientId, m.clientHost], [`ga-${c.name}`, '/127.0.0.1'], `${c.name}`)
      const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata)
      expectEqual([meta.version, meta.topics, meta.userData.length], [0, [topic], 0],
        `${c.name} metadata`)
      const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)
      // kafkajs's round robin: partition i goes to the (i mod 2)-th of the sorted member ids.
      const want = PARTS.filter(p => sorted[p % 2] === c.member)
      expectEqual([a.version, a.assignment, a.userData.length], [0, { [topic]: want }, 0],
        `${c.name} assignment`)
      expectEqual(c.assignment, { [topic]: want }, `${c.name}: what the consumer was given`)
    }
  }, { allowLogs: rebalanceLogs })

  await checks.run('listGroups: the group with protocol type consumer', async () => {
    const groups = await listed()
    expectEqual(groups.filter(g => g.groupId === groupId), [{ groupId, protocolType: 'consumer' }],
      'listGroups')
  })

  await checks.run('deleteGroups: NON_EMPTY_GROUP while members are active', async () => {
    await expectDeleteError([groupId], [[groupId, 68]])
    const g = await describe(groupId)
    expectEqual([g.state, g.members.length], ['Stable', 2], 'after the refusal')
  })

  await checks.run('a standalone commit into the running group: UNKNOWN_MEMBER_ID', async () => {
    let err = null
    try {
      await standaloneCommit(cluster, groupId, [{ partition: 0, offset: '1' }])
    } catch (e) {
      err = e
    }
    expect(err, 'the standalone commit into a Stable group succeeded')
    expectEqual(errorType(err), 'UNKNOWN_MEMBER_ID', `error ${err}`)
  }, { allowLogs: [/^Response OffsetCommit\(key: 8, version: \d+\) The coordinator is not aware/] })

  await checks.run('setOffsets: kafkajs refuses while the group runs', async () => {
    let err = null
    try {
      await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] })
    } catch (e) {
      err = e
    }
    expect(err, 'setOffsets on a running group succeeded')
    expect(/must have no running instances, current state: Stable/.test(err.message),
      `error ${err}`)
  })

  await checks.run('describeGroups: Empty once both left; offsets kept', async () => {
    await waitFor(() => new Set(seen.map(r => `${r.partition}/${r.offset}`)).size === 40,
      20000, 'all 40 records read')
    await waitFor(async () => (await offsets(groupId)).every(o => o === String(PER_PARTITION)),
      10000, 'committed offsets 10')
    for (const m of members) await m.consumer.disconnect()
    const g = await describe(groupId)
    expectEqual(
      [g.errorCode, g.state, g.protocolType, g.protocol, g.members],
      [0, 'Empty', 'consumer', '', []],
      'group'
    )
    expectEqual(await offsets(groupId), PARTS.map(() => String(PER_PARTITION)), 'offsets')
    expectEqual((await listed()).filter(g => g.groupId === groupId).length, 1, 'listed')
  }, { allowLogs: rebalanceLogs })

  await checks.run('deleteGroups: works once the members left; offsets gone; Dead', async () => {
    const res = await admin.deleteGroups([groupId])
    expectEqual(res.map(r => [r.groupId, r.errorCode]), [[groupId, 0]], 'deleteGroups')
    expectEqual(await offsets(groupId), PARTS.map(() => '-1'), 'offsets after deleting')
    const g = await describe(groupId)
    expectEqual([g.errorCode, g.state, g.members], [0, 'Dead', []], 'group after deleting')
    expectEqual((await listed()).filter(g => g.groupId === groupId), [], 'listed')
    // A new consumer of that group has no committed offset: it reads from the beginning.
    seen = []
    const again = await consumer(groupId, 'c3', seen)
    await waitFor(() => new Set(seen.map(r => `${r.partition}/${r.offset}`)).size === 40,
      20000, 'all 40 records read again')
    await again.consumer.disconnect()
    const res2 = await admin.deleteGroups([groupId])
    expectEqual(res2.map(r => r.errorCode), [0], 'deleting it again')
  })

  await checks.run('deleteGroups: an unknown group is GROUP_ID_NOT_FOUND', async () => {
    await expectDeleteError(['ga-never'], [['ga-never', 69]])
  })

  await checks.run('describeGroups: an unknown group is Dead', async () => {
    const g = await describe('ga-never')
    expectEqual(
      [g.errorCode, g.groupId, g.state, g.protocolType, g.protocol, g.members],
      [0, 'ga-never', 'Dead', '', '', []],
      'group'
    )
  })

  const setId = 'ga-set'
  await checks.run('setOffsets: a new group; a consumer starts there', async () => {
    const want = ['3', '5', '0', '10']
    await admin.setOffsets({
      groupId: setId,
      topic,
      partitions: PARTS.map(p => ({ partition: p, offset: want[p] })),
    })
    expectEqual(await offsets(setId), want, 'fetchOffsets')
    const g = await describe(setId)
    expectEqual([g.state, g.members], ['Empty', []], 'group after setOffsets')
    seen = []
    const c = await consumer(setId, 'c4', seen)
    await waitFor(async () => (await offsets(setId)).every(o => o === String(PER_PARTITION)),
      20000, 'committed offsets 10')
    await sleep(300)
    await c.consumer.disconnect()
    const got = PARTS.map(p =>
      seen.filter(r => r.partition === p).map(r => r.offset).sort((a, b) => a - b))
    const expected = PARTS.map(p => {
      const l = []
      for (let o = Number(want[p]); o < PER_PARTITION; o++) l.push(o)
      return l
    })
    expectEqual(got, expected, 'offsets read per partition')
  })

  await checks.run('resetOffsets: earliest, latest, resolved, on the Empty group', async () => {
    await admin.resetOffsets({ groupId: setId, topic, earliest: true })
    // kafkajs commits -2 (earliest) and -1 (latest) as they are; resolveOffsets turns them into
    // offsets through ListOffsets and commits those (each setOffsets takes kafkajs ~5 s: its
    // paused consumer sleeps maxWaitTime before the fetch it waits for).
    expectEqual(await offsets(setId), PARTS.map(() => '-2'), 'after resetOffsets earliest')
    await admin.resetOffsets({ groupId: setId, topic })
    expectEqual(await offsets(setId), PARTS.map(() => '-1'), 'after resetOffsets latest')
    const resolved = await admin.fetchOffsets({
      groupId: setId,
      topics: [topic],
      resolveOffsets: true,
    })
    expectEqual(resolved[0].partitions.map(p => p.offset), PARTS.map(() => String(PER_PARTITION)),
      'resolved')
    expectEqual(await offsets(setId), PARTS.map(() => String(PER_PARTITION)), 'committed')
    // Two records more per partition: a consumer of the group reads exactly those.
    await produceNumbered(producer, topic, PARTS, 2, 'ga2')
    seen = []
    const c = await consumer(setId, 'c5', seen)
    await waitFor(async () => (await offsets(setId)).every(o => o === String(PER_PARTITION + 2)),
      20000, 'committed offsets 12')
    await sleep(300)
    await c.consumer.disconnect()
    const got = [...new Set(seen.map(r => `${r.partition}/${r.offset}`))].sort()
    const want = PARTS.flatMap(p => [`${p}/10`, `${p}/11`])
    expectEqual(got, want, 'records read')
  })

  await checks.run('a standalone commit into the Empty group, with metadata', async () => {
    await standaloneCommit(cluster, setId, [
      { partition: 0, offset: '7', metadata: 'by an admin' },
      { partition: 1, offset: '8', metadata: '' },
      { partition: 2, offset: '9', metadata: null },
    ])
    const raw = await rawOffsetFetch(cluster, setId, [
      { topic, partitions: PARTS.map(partition => ({ partition })) },
    ])
    expectEqual(PARTS.map(p => raw[`${topic}/${p}`]), [
      { offset: '7', metadata: 'by an admin' },
      { offset: '8', metadata: '' },
      { offset: '9', metadata: null },
      { offset: '12', metadata: null },
    ], 'OffsetFetch')
    const g = await describe(setId)
    expectEqual([g.state, g.members], ['Empty', []], 'group')
  })

  await checks.run('a standalone commit creates a group that describe and list show', async () => {
    await standaloneCommit(cluster, 'ga-standalone', [{ partition: 3, offset: '4' }])
    const g = await describe('ga-standalone')
    expectEqual([g.errorCode, g.state, g.protocolType, g.members], [0, 'Empty', '', []], 'group')
    expectEqual((await listed()).filter(x => x.groupId === 'ga-standalone'),
      [{ groupId: 'ga-standalone', protocolType: '' }], 'listGroups')
    const res = await admin.fetchOffsets({ groupId: 'ga-standalone', topics: [topic] })
    expectEqual(res[0].partitions.sort((a, b) => a.partition - b.partition),
      PARTS.map(p => ({ partition: p, offset: p === 3 ? '4' : '-1', metadata: null })),
      'fetchOffsets')
  })

  await checks.run('fetchOffsets without topics: every topic the group committed', async () => {
    await admin.createTopics({ topics: [{ topic: 'ga-other', numPartitions: 2 }] })
    const coordinator = await cluster.findGroupCoordinator({ groupId: 'ga-standalone' })
    await coordinator.offsetCommit({
      groupId: 'ga-standalone',
      memberId: '',
      groupGenerationId: -1,
      topics: [{ topic: 'ga-other', partitions: [{ partition: 1, offset: '2', metadata: 'o' }] }],
    })
    const res = await admin.fetchOffsets({ groupId: 'ga-standalone' })
    res.sort((a, b) => a.topic.localeCompare(b.topic))
    expectEqual(res, [
      { topic: 'ga-other', partitions: [{ partition: 1, offset: '2', metadata: 'o' }] },
      { topic, partitions: [{ partition: 3, offset: '4', metadata: null }] },
    ], 'fetchOffsets of every topic')
    expectEqual(await admin.fetchOffsets({ groupId: 'ga-never' }), [], 'an unknown group')
  })

  await checks.run('describeGroups while rebalancing: members without metadata', async () => {
    // c6 reads alone and stalls in eachMessage, so it does not rejoin when c7 joins: the group
    // waits in PreparingRebalance. Kafka describes a group that is not Stable without a
    // protocol and with its members' ids, client ids and hosts only.
    const id = 'ga-rebalancing'
    let release
    const gate = new Promise(resolve => (release = resolve))
    const stalled = []
    const c6 = await startRecording(client(broker, 'ga-c6', logs), id, topic, stalled, {
      name: 'c6',
      onMessage: () => gate,
    })
    await waitFor(() => stalled.length > 0, 20000, 'c6 reading')
    // c7's start (kafkajs's run()) resolves only once it joined: not before c6 rejoins.
    const starting = consumer(id, 'c7', [])
    try {
      const g = await waitFor(async () => {
        const d = await describe(id)
        return d.state === 'PreparingRebalance' && d.members.length === 2 && d
      }, 5000, `${id} PreparingRebalance with c6 and c7`)
      expectEqual([g.errorCode, g.protocolType, g.protocol], [0, 'consumer', ''], 'group')
      const shown = g.members.map(m => [m.clientId, m.clientHost, m.memberMetadata.length,
        m.memberAssignment.length]).sort()
      expectEqual(shown, [['ga-c6', '/127.0.0.1', 0, 0], ['ga-c7', '/127.0.0.1', 0, 0]],
        'members')
      expect(g.members.some(m => m.memberId === c6.member), 'c6 is not described')
    } finally {
      release()
    }
    const c7 = await starting
    await waitFor(async () => {
      const d = await describe(id)
      return d.state === 'Stable' && d.members.length === 2
    }, 20000, `${id} Stable with both`)
    await c6.consumer.disconnect()
    await c7.consumer.disconnect()
  }, { allowLogs: rebalanceLogs })

  await producer.disconnect()
  await cluster.disconnect()
  await admin.disconnect()
  checks.finish()
}

main().catch(e => {
  console.log(`group_admin: FAIL: ${e.stack || e}`)
  process.exitCode = 1
})

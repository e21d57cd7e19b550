// tests/integration/js/group_mixed.js: a librdkafka member (kcat -G, spawned here) and a
// kafkajs 2.2.4 member in one consumer group of taped.
//   node group_mixed.js HOST:PORT KCAT
// taped runs with group.initial.rebalance.delay.ms=0 (group_mixed.sh). The two clients name
// their round-robin assignors differently: kafkajs "RoundRobinAssigner", librdkafka
// "roundrobin". With a common name they share a group:
// - kcat first (librdkafka leads and assigns), then kafkajs with an assigner named
//   "roundrobin" (kafkajs's own RoundRobinAssigner under librdkafka's name); and the other way
//   round (kafkajs leads). Each time: 10 records per partition before the second member joins,
//   then describeGroups shows Stable, protocol "roundrobin", both members (client ids, host,
//   metadata naming the topic) with assignments that decode with kafkajs's AssignerProtocol,
//   are disjoint, cover the 4 partitions and match what each client says it was given; 10
//   more records per partition are each read by their partition's owner only; every record
//   is read at least once by one of the two. In the first order kcat (the leader) is then
//   killed with SIGKILL: after its session timeout kafkajs alone owns all four partitions and
//   reads every record produced since.
// - With their defaults (kafkajs RoundRobinAssigner; librdkafka "range,roundrobin") they do
//   not mix: the second to join gets INCONSISTENT_GROUP_PROTOCOL (kafkajs: a consumer crash of
//   that type; kcat: "Inconsistent group protocol" and exit) and the first keeps all.
// KCAT_DEBUG=cgrp,protocol in the environment runs kcat with -d cgrp,protocol.
'use strict'

const { spawn } = require('child_process')
const { AssignerProtocol, PartitionAssigners } = require('kafkajs')
const { bootstrap, client, Checks, expect, expectEqual } = require('./common')
const { rebalanceLogs, errorType, waitFor, produceNumbered, startRecording, sleep } =
  require('./groups')

const broker = bootstrap()
const kcatPath = process.argv[3] || 'kcat'
const logs = []
const kafka = client(broker, 'mixed-admin', logs)
const admin = kafka.admin()
const checks = new Checks('group_mixed', logs)
const PARTS = [0, 1, 2, 3]
const PER = 10
const children = new Set()

// kafkajs's RoundRobinAssigner under librdkafka's protocol name. kafkajs's assigner reads its
// name and version through `this`, so the spread copy announces and encodes "roundrobin".
const RoundRobinNamedLikeLibrdkafka = ({ cluster }) => ({
  ...PartitionAssigners.roundRobin({ cluster }),
  name: 'roundrobin',
})

// kcat -G in groupId on topic: records (partition offset value) from stdout into seen as
// member "kcat", stderr kept; assigned() is the last "assigned:" partition list it printed.
function startKcat(groupId, topic, seen, strategy) {
  const args = ['-b', broker, '-G', groupId, '-X', 'client.id=kcat-mixed',
    '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000',
    '-X', 'heartbeat.interval.ms=500', '-X', 'auto.commit.interval.ms=200',
    '-f', '%p %o %s\\n', '-u', topic]
  if (strategy) args.unshift('-X', `partition.assignment.strategy=${strategy}`)
  if (process.env.KCAT_DEBUG) args.unshift('-d', process.env.KCAT_DEBUG)
  const child = spawn(kcatPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  const k = { child, stderr: '', exit: null, lastAssigned: null }
  let out = ''
  child.stdout.on('data', d => {
    out += d
    let nl
    while ((nl = out.indexOf('\n')) >= 0) {
      const [p, o, value] = out.slice(0, nl).split(' ')
      out = out.slice(nl + 1)
      seen.push({ member: 'kcat', partition: Number(p), offset: Number(o), value })
    }
  })
  let errLine = '' // a line may come in several chunks
  child.stderr.on('data', d => {
    k.stderr += d
    const lines = (errLine + d).split('\n')
    errLine = lines.pop()
    for (const line of lines) {
      const m = /rebalanced \(memberid ([^)]*)\): assigned: (.*)$/.exec(line)
      if (m) {
        k.member = m[1]
        k.lastAssigned = [...m[2].matchAll(/\[(\d+)\]/g)].map(x => Number(x[1])).sort()
      }
    }
  })
  child.on('exit', (code, signal) => {
    k.exit = { code, signal }
    children.delete(child)
  })
  return k
}

// Waits for kcat's first assignment; a timeout says what kcat printed.
async function kcatAssigned(k) {
  try {
    await waitFor(() => k.lastAssigned || k.exit, 20000, 'kcat assigned')
  } catch (e) {
    throw new Error(`${e.message}; kcat's stderr: ${k.stderr}`)
  }
}

// Ends kcat with SIGINT (it leaves the group and exits 0); SIGKILL after 10 s.
async function stopKcat(k) {
  if (k.exit) return
  k.child.kill('SIGINT')
  try {
    await waitFor(() => k.exit, 10000, 'kcat to exit after SIGINT')
  } catch (e) {
    k.child.kill('SIGKILL')
    throw e
  }
}

async function describe(groupId) {
  const { groups } = await admin.describeGroups([groupId])
  return groups[0]
}

function kafkajsMember(groupId, topic, seen, assigners) {
  const opts = { name: 'kafkajs', consumer: assigners ? { partitionAssigners: assigners } : {} }
  return startRecording(client(broker, 'kafkajs-mixed', logs), groupId, topic, seen, opts)
}

function allRead(seen, count) {
  return () => new Set(seen.map(r => `${r.partition}/${r.offset}`)).size === count
}

// One shared group: first and second are 'kcat' or 'kafkajs'. killKcat: then kcat dies
// (SIGKILL, no LeaveGroup); once its session times out (6 s) kafkajs owns every partition and
// reads what is produced after the kill.
async function mixedCase(first, second, killKcat = false) {
  const topic = `mixed-${first}-first`
  const groupId = `${topic}-g`
  const seen = []
  const values = {}
  let kc = null
  let kj = null
  const start = async who => {
    if (who === 'kcat') {
      kc = startKcat(groupId, topic, seen, 'roundrobin')
      await kcatAssigned(kc)
      expect(!kc.exit, `kcat exited ${JSON.stringify(kc.exit)}: ${kc.stderr}`)
    } else {
      kj = await kafkajsMember(groupId, topic, seen, [RoundRobinNamedLikeLibrdkafka])
    }
  }
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] })
    const one = await produceNumbered(producer, topic, PARTS, PER, 'before')
    for (const p of PARTS) values[p] = one[p]
    await start(first)
    await waitFor(allRead(seen, 4 * PER), 20000, `${first} alone reads all ${4 * PER}`)
    await start(second)
    const g = await waitFor(async () => {
      const d = await describe(groupId)
      const ok = d.state === 'Stable' && d.members.length === 2 && kj.assignment &&
        kj.assignment[topic].length < 4 && kc.lastAssigned && kc.lastAssigned.length < 4
      return ok && d
    }, 20000, `${groupId} Stable with kcat and kafkajs`)
    expectEqual([g.errorCode, g.protocolType, g.protocol], [0, 'consumer', 'roundrobin'], 'group')
    const owner = {}
    for (const m of g.members) {
      const who = m.clientId === 'kcat-mixed' ? 'kcat' : 'kafkajs'
      expectEqual([m.clientId, m.clientHost], [`${who}-mixed`, '/127.0.0.1'], `${who} member`)
      expectEqual(m.memberId, who === 'kcat' ? kc.member : kj.member, `${who} member id`)
      const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata)
      expectEqual(meta.topics, [topic], `${who} metadata topics`)
      const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)
      expectEqual(Object.keys(a.assignment), [topic], `${who} assignment topics`)
      const parts = a.assignment[topic].slice().sort()
      expectEqual(parts, who === 'kcat' ? kc.lastAssigned : kj.assignment[topic].slice().sort(),
        `${who}: described assignment vs what it was given`)
      expectEqual(parts.length, 2, `${who}: round robin over 2 members gives 2 of 4`)
      for (const p of parts) {
        expect(owner[p] === undefined, `partition ${p} assigned twice`)
        owner[p] = who
      }
    }
    expectEqual(Object.keys(owner).map(Number).sort(), PARTS, 'assigned partitions')
    const mark = seen.length
    const two = await produceNumbered(producer, topic, PARTS, PER, 'after')
    for (const p of PARTS) values[p] = values[p].concat(two[p])
    await waitFor(allRead(seen, 8 * PER), 20000, `all ${8 * PER} records read`)
    await sleep(300)
    for (const r of seen.slice(mark).filter(r => r.offset >= PER))
      expectEqual(r.member, owner[r.partition], `reader of ${r.partition}/${r.offset}`)
    if (killKcat) {
      kc.child.kill('SIGKILL')
      await waitFor(() => kc.exit, 5000, 'kcat to die')
      const three = await produceNumbered(producer, topic, PARTS, PER, 'orphaned')
      for (const p of PARTS) values[p] = values[p].concat(three[p])
      const g2 = await waitFor(async () => {
        const d = await describe(groupId)
        const alone = d.state === 'Stable' && d.members.length === 1
        return alone && kj.assignment[topic].length === 4 && d
      }, 20000, 'kafkajs alone with every partition after the session timeout')
      expectEqual(g2.members.map(m => m.memberId), [kj.member], 'the member left')
      const mark2 = seen.length
      await waitFor(allRead(seen, 12 * PER), 20000, `all ${12 * PER} records read`)
      for (const r of seen.slice(mark2)) expectEqual(r.member, 'kafkajs', 'a reader after the kill')
    }
    for (const r of seen) expectEqual(r.value, values[r.partition][r.offset], 'a value read')
    expectEqual(kj.crashes.map(String), [], 'kafkajs crashes')
  } finally {
    if (kj) await kj.consumer.disconnect()
    if (kc) await stopKcat(kc)
    await producer.disconnect()
  }
  expectEqual(kc.exit, killKcat ? { code: null, signal: 'SIGKILL' } : { code: 0, signal: null },
    `kcat exit (stderr: ${kc.stderr})`)
}

// Defaults on both sides: no protocol in common.
async function defaultsCase(first) {
  const topic = 'mixed-defaults'
  const groupId = `mixed-defaults-${first}-first`
  const seen = []
  let kc = null
  let kj = null
  try {
    if (first === 'kcat') {
      kc = startKcat(groupId, topic, seen, null)
      await kcatAssigned(kc)
      kj = await kafkajsMember(groupId, topic, seen, null)
      await waitFor(() => kj.crashes.length, 20000, 'the kafkajs consumer to crash')
      expectEqual(kj.crashes.map(errorType), ['INCONSISTENT_GROUP_PROTOCOL'], 'kafkajs crash')
      expect(!kc.exit, `kcat exited: ${kc.stderr}`)
      const g = await describe(groupId)
      expectEqual([g.state, g.protocol, g.members.map(m => m.clientId)],
        ['Stable', 'range', ['kcat-mixed']], 'the group')
      expectEqual(kc.lastAssigned, PARTS, 'kcat keeps every partition')
    } else {
      kj = await kafkajsMember(groupId, topic, seen, null)
      await waitFor(() => kj.assignment, 20000, 'kafkajs assigned')
      kc = startKcat(groupId, topic, seen, null)
      await waitFor(() => kc.exit, 20000, 'kcat to give up')
      expect(/JoinGroup failed: Broker: Inconsistent group protocol/.test(kc.stderr),
        `kcat's stderr: ${kc.stderr}`)
      expect(kc.lastAssigned === null, 'kcat was assigned partitions')
      const g = await describe(groupId)
      expectEqual([g.state, g.protocol, g.members.map(m => m.clientId)],
        ['Stable', 'RoundRobinAssigner', ['kafkajs-mixed']], 'the group')
      expectEqual(kj.assignment, { [topic]: PARTS }, 'kafkajs keeps every partition')
      expectEqual(kj.crashes, [], 'kafkajs crashes')
    }
  } finally {
    if (kj) await kj.consumer.disconnect()
    if (kc) await stopKcat(kc)
  }
}

async function main() {
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'mixed-defaults', numPartitions: 4 }] })
  await checks.run('kcat first, then kafkajs ("roundrobin"): they share; kcat is killed',
    () => mixedCase('kcat', 'kafkajs', true), { allowLogs: rebalanceLogs })
  await checks.run('kafkajs first ("roundrobin"), then kcat: they share the partitions',
    () => mixedCase('kafkajs', 'kcat'), { allowLogs: rebalanceLogs })
  await checks.run('defaults, kcat first: kafkajs gets INCONSISTENT_GROUP_PROTOCOL',
    () => defaultsCase('kcat'), {
      allowLogs: [/^Response JoinGroup\(key: 11, version: \d+\) The group member's supported/,
        /^Crash: KafkaJSProtocolError: The group member's supported protocols/],
    })
  await checks.run('defaults, kafkajs first: kcat gets INCONSISTENT_GROUP_PROTOCOL',
    () => defaultsCase('kafkajs'))
  await admin.disconnect()
  checks.finish()
}

main()
  .catch(e => {
    console.log(`group_mixed: FAIL: ${e.stack || e}`)
    process.exitCode = 1
  })
  .finally(() => {
    for (const c of children) c.kill('SIGKILL') // only the kcat processes started here
  })

// tests/integration/js/admin.js: the kafkajs 2.2.4 admin client against taped.
//   node admin.js HOST:PORT
// taped is started with num.partitions=2 and log.retention.hours=24 (kafkajs_admin.sh), so a
// topic created without a partition count gets 2, and DescribeConfigs shows static broker
// values next to defaults. Each case prints "admin: ok: ..." or "admin: FAIL: ..."; exit 1
// when any failed.
// DescribeConfigs cases print "WAITING ON DescribeConfigs" while the broker lacks the API.
'use strict'

const { ConfigResourceTypes, ConfigSource } = require('kafkajs')
const { bootstrap, client, Checks, expect, expectEqual } = require('./common')

const broker = bootstrap()
const logs = []
const kafka = client(broker, 'tape-admin-test', logs)
const admin = kafka.admin()
const checks = new Checks('admin', logs)

const plain = 'admin-plain'
const compact = 'admin-compact'

// Turns "the broker does not have DescribeConfigs" into one clear line, and fails the case.
async function describeConfigs(request) {
  try {
    return await admin.describeConfigs(request)
  } catch (e) {
    if (e.name === 'KafkaJSServerDoesNotSupportApiKey') {
      console.log(
        'admin: WAITING ON DescribeConfigs: taped does not implement DescribeConfigs (API 32) ' +
          'yet; this case fails until it does'
      )
    }
    throw e
  }
}

function entries(resource) {
  const m = new Map()
  for (const e of resource.configEntries) m.set(e.configName, e)
  return m
}

async function main() {
  await admin.connect()

  await checks.run('createTopics: a new topic answers true', async () => {
    const created = await admin.createTopics({ topics: [{ topic: plain }] })
    expectEqual(created, true, 'createTopics')
    const topics = await admin.listTopics()
    expect(topics.includes(plain), `listTopics ${JSON.stringify(topics)} lacks ${plain}`)
    const md = await admin.fetchTopicMetadata({ topics: [plain] })
    expectEqual(md.topics[0].partitions.length, 2, 'partitions (num.partitions=2)')
  })

  await checks.run('createTopics: an existing topic answers false', async () => {
    const created = await admin.createTopics({ topics: [{ topic: plain }] })
    expectEqual(created, false, 'createTopics again')
  }, { allowLogs: [/^Response CreateTopics/] })

  await checks.run('createTopics: numPartitions and configEntries', async () => {
    const created = await admin.createTopics({
      topics: [
        {
          topic: compact,
          numPartitions: 4,
          replicationFactor: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'retention.ms', value: '3600000' },
          ],
        },
      ],
    })
    expectEqual(created, true, 'createTopics')
    const md = await admin.fetchTopicMetadata({ topics: [compact] })
    const parts = md.topics[0].partitions.map(p => ({
      partitionId: p.partitionId,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
    }))
    parts.sort((a, b) => a.partitionId - b.partitionId)
    const want = [0, 1, 2, 3].map(p => ({ partitionId: p, leader: 0, replicas: [0], isr: [0] }))
    expectEqual(parts, want, 'partitions')
  })

  await checks.run('createTopics: an invalid config is refused with INVALID_CONFIG', async () => {
    let err = null
    try {
      await admin.createTopics({
        topics: [{ topic: 'admin-bad', configEntries: [{ name: 'cleanup.policy', value: 'x' }] }],
      })
    } catch (e) {
      err = e
    }
    expect(err, 'createTopics with cleanup.policy=x succeeded')
    const types = (err.errors || [err]).map(e => e.type)
    expectEqual(types, ['INVALID_CONFIG'], 'error types')
    const topics = await admin.listTopics()
    expect(!topics.includes('admin-bad'), 'the refused topic exists')
  }, { allowLogs: [/^Response CreateTopics/] })

  await checks.run('createTopics: bad partitions and replication factor are refused', async () => {
    const refused = async (topic, want) => {
      let err = null
      try {
        await admin.createTopics({ topics: [topic] })
      } catch (e) {
        err = e
      }
      expect(err, `createTopics ${JSON.stringify(topic)} succeeded`)
      expectEqual((err.errors || [err]).map(e => e.type), [want], JSON.stringify(topic))
    }
    await refused({ topic: 'admin-rf', replicationFactor: 2 }, 'INVALID_REPLICATION_FACTOR')
    await refused({ topic: 'admin-zero', numPartitions: 0 }, 'INVALID_PARTITIONS')
    await refused({ topic: 'bad/name' }, 'INVALID_TOPIC_EXCEPTION')
    const topics = await admin.listTopics()
    for (const t of ['admin-rf', 'admin-zero', 'bad/name'])
      expect(!topics.includes(t), `the refused topic ${t} exists`)
  }, { allowLogs: [/^Response CreateTopics/] })

  await checks.run('createTopics: validateOnly creates nothing', async () => {
    const topics = [{ topic: 'admin-validate', numPartitions: 3 }]
    expectEqual(await admin.createTopics({ topics, validateOnly: true, waitForLeaders: false }),
      true, 'validateOnly')
    expect(!(await admin.listTopics()).includes('admin-validate'), 'validateOnly created it')
  })

  await checks.run('createTopics: an existing and a new topic in one request', async () => {
    const topics = [{ topic: plain }, { topic: 'admin-second', numPartitions: 3 }]
    // kafkajs answers false when every error is TOPIC_ALREADY_EXISTS; the new one is made.
    expectEqual(await admin.createTopics({ topics }), false, 'createTopics')
    const md = await admin.fetchTopicMetadata({ topics: ['admin-second'] })
    expectEqual(md.topics[0].partitions.length, 3, 'admin-second partitions')
  }, { allowLogs: [/^Response CreateTopics/] })

  await checks.run('fetchTopicOffsets: low and high after producing', async () => {
    const before = await admin.fetchTopicOffsets(compact)
    before.sort((a, b) => a.partition - b.partition)
    expectEqual(
      before.map(p => [p.partition, p.low, p.high]),
      [0, 1, 2, 3].map(p => [p, '0', '0']),
      'offsets of the empty topic'
    )
    // Partition p gets 3 * p records (none in 0), in two sends.
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    try {
      for (let round = 0; round < 2; round++) {
        const messages = []
        for (let p = 1; p < 4; p++)
          for (let i = 0; i < (round === 0 ? p : 2 * p); i++)
            messages.push({ partition: p, key: `k${p}-${round}-${i}`, value: `v${i}` })
        await producer.send({ topic: compact, acks: -1, messages })
      }
    } finally {
      await producer.disconnect()
    }
    const after = await admin.fetchTopicOffsets(compact)
    after.sort((a, b) => a.partition - b.partition)
    expectEqual(
      after.map(p => [p.partition, p.low, p.high, p.offset]),
      [0, 1, 2, 3].map(p => [p, '0', String(3 * p), String(3 * p)]),
      'offsets after producing'
    )
  })

  await checks.run('describeConfigs: a topic, a value set and a default', async () => {
    const res = await describeConfigs({
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: compact,
          configNames: ['cleanup.policy', 'retention.ms', 'segment.bytes'],
        },
      ],
    })
    expectEqual(res.resources.length, 1, 'resources')
    const r = res.resources[0]
    expectEqual([r.errorCode, r.resourceType, r.resourceName], [0, 2, compact], 'resource')
    const e = entries(r)
    expectEqual([...e.keys()].sort(), ['cleanup.policy', 'retention.ms', 'segment.bytes'], 'keys')
    const pick = n => {
      const { configValue, configSource, isDefault, readOnly, isSensitive } = e.get(n)
      return { configValue, configSource, isDefault, readOnly, isSensitive }
    }
    const set = { configSource: ConfigSource.TOPIC_CONFIG, isDefault: false }
    const def = { configSource: ConfigSource.DEFAULT_CONFIG, isDefault: true }
    const common = { readOnly: false, isSensitive: false }
    expectEqual(pick('cleanup.policy'), { configValue: 'compact', ...set, ...common }, 'set')
    expectEqual(pick('retention.ms'), { configValue: '3600000', ...set, ...common }, 'set')
    expectEqual(pick('segment.bytes'), { configValue: '1073741824', ...def, ...common }, 'default')
  })

  await checks.run('describeConfigs: a topic, every key', async () => {
    const res = await describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: plain }],
    })
    const e = entries(res.resources[0])
    for (const n of ['cleanup.policy', 'retention.ms', 'segment.ms', 'max.message.bytes'])
      expect(e.has(n), `${n} missing from ${JSON.stringify([...e.keys()])}`)
    const pick = n => [n, e.get(n).configValue, e.get(n).configSource]
    const { DEFAULT_CONFIG, STATIC_BROKER_CONFIG } = ConfigSource
    expectEqual(pick('cleanup.policy'), ['cleanup.policy', 'delete', DEFAULT_CONFIG], 'default')
    // Both derived from hours in the broker's config: 24 set (retention), 168 by default (roll).
    expectEqual(pick('retention.ms'), ['retention.ms', '86400000', STATIC_BROKER_CONFIG], 'hours')
    expectEqual(pick('segment.ms'), ['segment.ms', '604800000', DEFAULT_CONFIG], 'hours')
  })

  await checks.run('describeConfigs: the broker "0", a static value and a default', async () => {
    const res = await describeConfigs({
      resources: [
        {
          type: ConfigResourceTypes.BROKER,
          name: '0',
          configNames: ['num.partitions', 'log.segment.bytes'],
        },
      ],
    })
    expectEqual(res.resources.length, 1, 'resources')
    const r = res.resources[0]
    expectEqual([r.errorCode, r.resourceType, r.resourceName], [0, 4, '0'], 'resource')
    const e = entries(r)
    expectEqual([...e.keys()].sort(), ['log.segment.bytes', 'num.partitions'], 'keys')
    const pick = n => [e.get(n).configValue, e.get(n).configSource, e.get(n).isDefault]
    expectEqual(pick('num.partitions'), ['2', ConfigSource.STATIC_BROKER_CONFIG, false], 'static')
    expectEqual(pick('log.segment.bytes'), ['1073741824', ConfigSource.DEFAULT_CONFIG, true], 'def')
  })

  await checks.run('describeConfigs: an unknown topic: UNKNOWN_TOPIC_OR_PARTITION', async () => {
    let err = null
    try {
      await describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'nope' }] })
    } catch (e) {
      if (e.name === 'KafkaJSServerDoesNotSupportApiKey') throw e
      err = e
    }
    expect(err, 'describeConfigs of a missing topic succeeded')
    const last = err.cause || err
    expectEqual(last.type, 'UNKNOWN_TOPIC_OR_PARTITION', `error ${err.name}: ${err.message}`)
  }, { allowLogs: [/^Response DescribeConfigs/] })

  await checks.run('deleteTopics: the topics are gone from listTopics', async () => {
    await admin.deleteTopics({ topics: [plain, compact, 'admin-second'] })
    const topics = await admin.listTopics()
    for (const t of [plain, compact, 'admin-second'])
      expect(!topics.includes(t), `listTopics ${JSON.stringify(topics)} still has ${t}`)
  })

  await checks.run('deleteTopics: an unknown topic: UNKNOWN_TOPIC_OR_PARTITION', async () => {
    let err = null
    try {
      await admin.deleteTopics({ topics: ['admin-never'] })
    } catch (e) {
      err = e
    }
    expect(err, 'deleteTopics of a missing topic succeeded')
    // A retriable error: kafkajs retries, then wraps the last one.
    const last = err.cause || err
    expectEqual(last.type, 'UNKNOWN_TOPIC_OR_PARTITION', `error ${err.name}: ${err.message}`)
  }, { allowLogs: [/^Response DeleteTopics/, /^Could not delete topics/] })

  await checks.run('createTopics: a deleted name can be created again, empty', async () => {
    const created = await admin.createTopics({ topics: [{ topic: compact, numPartitions: 4 }] })
    expectEqual(created, true, 'createTopics after deleteTopics')
    const offsets = await admin.fetchTopicOffsets(compact)
    offsets.sort((a, b) => a.partition - b.partition)
    expectEqual(
      offsets.map(p => [p.partition, p.low, p.high]),
      [0, 1, 2, 3].map(p => [p, '0', '0']),
      'offsets of the re-created topic'
    )
  })

  await admin.disconnect()
}

main()
  .catch(e => {
    console.log(`admin: FAIL: ${e.stack || e}`)
    checks.failed.push('main')
  })
  .finally(() => checks.finish())

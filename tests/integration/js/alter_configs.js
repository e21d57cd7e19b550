// tests/integration/js/alter_configs.js: kafkajs 2.2.4 admin.alterConfigs (AlterConfigs v1)
// against taped, checked with admin.describeConfigs.
//   node alter_configs.js HOST:PORT before   create, alter, refuse, validate only, produce
//   node alter_configs.js HOST:PORT after    (after a restart) the altered values are there
// kafkajs_alter_configs.sh runs "before", restarts taped on the same data, runs "after".
// Each case prints "alter: ok: ..." or "alter: FAIL: ..."; exit 1 when any failed.
'use strict'

const { ConfigResourceTypes, ConfigSource } = require('kafkajs')
const { bootstrap, client, Checks, expect, expectEqual } = require('./common')

const broker = bootstrap()
const phase = process.argv[3]
const logs = []
const kafka = client(broker, 'tape-alter-test', logs)
const admin = kafka.admin()
const checks = new Checks('alter', logs)
const topic = 'alter-me'
const TOPIC = ConfigResourceTypes.TOPIC

async function describe(name, keys) {
  const res = await admin.describeConfigs({
    resources: [{ type: TOPIC, name, configNames: keys }],
  })
  const m = {}
  const sorted = [...res.resources[0].configEntries]
  sorted.sort((a, b) => a.configName.localeCompare(b.configName))
  for (const e of sorted) m[e.configName] = [e.configValue, e.configSource, e.isDefault]
  return m
}

const keys = ['retention.ms', 'cleanup.policy', 'segment.bytes', 'flush.mode']
const SET = ConfigSource.TOPIC_CONFIG
const DEF = ConfigSource.DEFAULT_CONFIG

// What the topic looks like after the alteration (and after the restart).
const altered = {
  'cleanup.policy': ['delete', DEF, true],
  'flush.mode': ['none', SET, false],
  'retention.ms': ['7200000', SET, false],
  'segment.bytes': ['4096', SET, false],
}

async function refused(resources, want, what) {
  let err = null
  try {
    await admin.alterConfigs({ resources })
  } catch (e) {
    err = e
  }
  expect(err, `${what}: alterConfigs succeeded`)
  expectEqual(err.type, want, `${what}: error type`)
}

async function before() {
  await checks.run('create a topic with two configs', async () => {
    const created = await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [
            { name: 'retention.ms', value: '3600000' },
            { name: 'cleanup.policy', value: 'compact' },
          ],
        },
      ],
    })
    expectEqual(created, true, 'createTopics')
    const d = await describe(topic, keys)
    expectEqual(d['retention.ms'], ['3600000', SET, false], 'retention.ms')
    expectEqual(d['cleanup.policy'], ['compact', SET, false], 'cleanup.policy')
  })

  await checks.run('alterConfigs replaces every override (cleanup.policy back to default)',
    async () => {
      const res = await admin.alterConfigs({
        resources: [
          {
            type: TOPIC,
            name: topic,
            configEntries: [
              { name: 'retention.ms', value: '7200000' },
              { name: 'segment.bytes', value: '4096' },
              { name: 'flush.mode', value: 'none' },
            ],
          },
        ],
      })
      expectEqual(res.resources.map(r => [r.errorCode, r.resourceType, r.resourceName]),
        [[0, TOPIC, topic]], 'resources')
      expectEqual(await describe(topic, keys), altered, 'describeConfigs')
    })

  await checks.run('validateOnly changes nothing', async () => {
    await admin.alterConfigs({
      validateOnly: true,
      resources: [{ type: TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '1' }] }],
    })
    expectEqual(await describe(topic, keys), altered, 'describeConfigs')
  })

  await checks.run('a bad value, an unknown key: INVALID_CONFIG, nothing changes', async () => {
    const one = (name, value) => [{ type: TOPIC, name: topic, configEntries: [{ name, value }] }]
    await refused(one('retention.ms', 'soon'), 'INVALID_CONFIG', 'retention.ms=soon')
    await refused(one('cleanup.policy', 'x'), 'INVALID_CONFIG', 'cleanup.policy=x')
    await refused(one('no.such.key', '1'), 'INVALID_CONFIG', 'no.such.key')
    expectEqual(await describe(topic, keys), altered, 'describeConfigs')
  }, { allowLogs: [/^Response AlterConfigs/] })

  await checks.run('an unknown topic: UNKNOWN_TOPIC_OR_PARTITION', async () => {
    await refused([{ type: TOPIC, name: 'alter-nope', configEntries: [] }],
      'UNKNOWN_TOPIC_OR_PARTITION', 'alter-nope')
  }, { allowLogs: [/^Response AlterConfigs/] })

  await checks.run('a broker resource: INVALID_REQUEST (no dynamic broker configs)', async () => {
    await refused([{ type: ConfigResourceTypes.BROKER, name: '0',
      configEntries: [{ name: 'log.retention.ms', value: '1' }] }], 'INVALID_REQUEST', 'broker 0')
  }, { allowLogs: [/^Response AlterConfigs/] })

  // segment.bytes=4096 applies to the live partition: 40 batches of ~300 bytes roll it.
  await checks.run('the live partition rolls at the new segment.bytes', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    try {
      for (let i = 0; i < 40; i++)
        await producer.send({ topic, acks: -1, messages: [{ value: 'x'.repeat(250) }] })
    } finally {
      await producer.disconnect()
    }
    const offsets = await admin.fetchTopicOffsets(topic)
    expectEqual(offsets.map(p => p.high), ['40'], 'high watermark')
  })
}

async function after() {
  await checks.run('after a restart the altered configs are there', async () => {
    expectEqual(await describe(topic, keys), altered, 'describeConfigs')
  })
}

async function main() {
  await admin.connect()
  if (phase === 'before') await before()
  else if (phase === 'after') await after()
  else throw new Error(`phase ${phase}: want before or after`)
  await admin.disconnect()
  checks.finish()
}

main().catch(e => {
  console.log(`alter: FAIL: ${e.stack || e}`)
  process.exit(1)
})

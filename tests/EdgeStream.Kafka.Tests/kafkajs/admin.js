// kafkajs against an EdgeStream node: admin (create, describe configs, offsets, cluster, delete),
// a producer and a consumer group. Prints one line per fact; the C# test checks them.
// Usage: node admin.js HOST:PORT TOPIC
const { Kafka, logLevel, ConfigResourceTypes } = require('kafkajs');
const { consumeValues } = require('./common');

const [bootstrap, topic] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'edgestream-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'min.insync.replicas', value: '1' }] }],
  });
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  const entries = described.resources[0].configEntries;
  const entry = (name) => entries.find((e) => e.configName === name);
  console.log('configs', entries.length);
  console.log('retention.ms', entry('retention.ms').configValue, entry('retention.ms').isDefault);
  console.log('flush.ms', entry('flush.ms').configValue, entry('flush.ms').isDefault);

  const broker = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '1' }] });
  const brokerEntries = broker.resources[0].configEntries;
  const brokerEntry = (name) => brokerEntries.find((e) => e.configName === name);
  console.log('broker.configs', brokerEntries.length);
  console.log('num.io.threads', brokerEntry('num.io.threads').configValue, brokerEntry('num.io.threads').isDefault, brokerEntry('num.io.threads').readOnly);
  console.log('ssl.key.password', brokerEntry('ssl.key.password').configValue, brokerEntry('ssl.key.password').isSensitive);
  try {
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '-2' }] }] });
    console.log('alter.invalid', 'accepted');
  } catch (e) {
    console.log('alter.invalid', e.type);
  }

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'a', value: 'one', partition: 0 }, { key: 'b', value: 'two', partition: 0 }, { key: 'c', value: 'three', partition: 1 }] });
  await producer.disconnect();

  const offsets = await admin.fetchTopicOffsets(topic);
  console.log('offsets', offsets.sort((a, b) => a.partition - b.partition).map((o) => `${o.partition}:${o.low}-${o.high}`).join(','));
  const cluster = await admin.describeCluster();
  console.log('brokers', cluster.brokers.map((b) => b.nodeId).join(','));

  const seen = await consumeValues(kafka, `${topic}-group`, topic, 3);
  console.log('consumed', seen.sort().join(','));

  await admin.deleteTopics({ topics: [topic] });
  console.log('listed', (await admin.listTopics()).includes(topic));
  await admin.disconnect();
}

main().catch((e) => { console.error(e); process.exit(1); });

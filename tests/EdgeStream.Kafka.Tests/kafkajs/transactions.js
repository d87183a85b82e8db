// kafkajs transactions against an EdgeStream node: a committed, an aborted and a committed
// transaction (the last one with sendOffsets), then a read_committed consumer and the group's
// committed offset. Prints one line per fact; the C# test checks them.
// Usage: node transactions.js HOST:PORT TOPIC
const { Kafka, logLevel } = require('kafkajs');
const { consumeValues } = require('./common');

const [bootstrap, topic] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'edgestream-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
const send = (txn, values) => txn.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) });

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });

  const producer = kafka.producer({ transactionalId: `${topic}-txn`, maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  let txn = await producer.transaction();
  await send(txn, ['c0', 'c1']);
  await txn.commit();

  txn = await producer.transaction();
  await send(txn, ['a0', 'a1']);
  await txn.abort();

  txn = await producer.transaction();
  await send(txn, ['c2']);
  await txn.sendOffsets({ consumerGroupId: `${topic}-group`, topics: [{ topic, partitions: [{ partition: 0, offset: '42' }] }] });
  const pending = await admin.fetchOffsets({ groupId: `${topic}-group`, topics: [topic] });
  console.log('offset-before-commit', pending[0].partitions[0].offset);
  await txn.commit();
  await producer.disconnect();

  const committed = await admin.fetchOffsets({ groupId: `${topic}-group`, topics: [topic] });
  console.log('offset-after-commit', committed[0].partitions[0].offset);

  // kafkajs consumers read committed data by default (readUncommitted: false).
  const seen = await consumeValues(kafka, `${topic}-reader`, topic, 3);
  console.log('consumed', seen.join(','));
  await admin.disconnect();
}

main().catch((e) => { console.error(e); process.exit(1); });

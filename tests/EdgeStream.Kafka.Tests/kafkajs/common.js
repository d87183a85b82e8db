// Helpers the kafkajs peer scripts share.

// Consumes `count` values of `topic` from the beginning with a new member of `groupId`; fails after 30 s.
async function consumeValues(kafka, groupId, topic, count) {
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed only ${seen.length} of ${count} within 30 s: ${seen}`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value.toString());
        if (seen.length === count) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return seen;
}

module.exports = { consumeValues };

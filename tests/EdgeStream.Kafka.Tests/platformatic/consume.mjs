// A consumer group member of @platformatic/kafka (which fetches with KIP-227 sessions) reads
// every record of TOPIC; once it has FIRST distinct values it produces SECOND more, spread over
// the partitions, and reads on until it has them all. Prints "total N distinct N" (records
// received, distinct values); exits 2 when the deadline passes first.
// The client targets Node 22; Debian's Node 20 lacks only Promise.withResolvers (ES2024), added
// here before the client loads.
if (!Promise.withResolvers) {
  Promise.withResolvers = () => {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
const { Consumer, Producer, MessagesStreamModes, stringDeserializers, stringSerializers } = await import('@platformatic/kafka')

const [bootstrap, topic, firstText, secondText, partitionsText] = process.argv.slice(2)
const first = Number(firstText)
const second = Number(secondText)
const partitions = Number(partitionsText)
const seen = new Map()
let total = 0

const deadline = setTimeout(() => {
  console.log(`timeout total ${total} distinct ${seen.size}`)
  process.exit(2)
}, 90_000)

const consumer = new Consumer({
  groupId: `g-${topic}`,
  clientId: 'edgestream-fetch-sessions',
  bootstrapBrokers: [bootstrap],
  deserializers: stringDeserializers,
  maxWaitTime: 100
})
const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false })
let produced = false
for await (const message of stream) {
  total++
  seen.set(message.value, (seen.get(message.value) ?? 0) + 1)
  if (!produced && seen.size >= first) {
    produced = true
    const producer = new Producer({ clientId: 'edgestream-fetch-sessions-producer', bootstrapBrokers: [bootstrap], serializers: stringSerializers })
    const messages = []
    for (let i = 0; i < second; i++) messages.push({ topic, partition: i % partitions, key: 'k', value: `second-${i}` })
    await producer.send({ messages })
    await producer.close()
  }
  if (seen.size >= first + second) break
}
clearTimeout(deadline)
console.log(`total ${total} distinct ${seen.size}`)
await consumer.close(true)
process.exit(0)

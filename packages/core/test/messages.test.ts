import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  defineMessageType,
  type Envelope,
  type EnvelopeOf,
  extensionsOf,
  hopsOf,
  OncueError,
  parseEvent,
  serializeEvent,
  type StandardSchemaV1,
} from '@oncue/core'
import { z } from 'zod'

/** Asserts `run` throws an OncueError with `code` whose message matches `message`. */
function throwsCode(run: () => unknown, code: string, message: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof OncueError, String(err))
    assert.equal(err.code, code)
    assert.match(err.message, message)
    return true
  })
}

const OrderPlaced = defineMessageType({
  kind: 'event',
  type: 'order_placed',
  version: 2,
  schema: z.object({
    orderId: z.string(),
    total: z.number(),
    items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })).default([]),
  }),
})

test('a zod message type builds a CloudEvents envelope with typed data', () => {
  const before = Date.now()
  const message = OrderPlaced({ orderId: 'o-1', total: 12.5 })
  const data: { orderId: string; total: number; items: { sku: string; qty: number }[] } = message.data ?? assert.fail('no data')
  assert.deepEqual(data, { orderId: 'o-1', total: 12.5, items: [] }, 'the schema output, default applied')
  assert.match(message.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.equal(message.specversion, '1.0')
  assert.equal(message.source, 'oncue')
  assert.equal(message.type, 'order_placed')
  assert.equal(message.datacontenttype, 'application/json')
  assert.equal(message.dataschema, 'urn:oncue:schema:order_placed:v2')
  assert.ok(Date.parse(message.time ?? '') >= before - 1)
  assert.notEqual(OrderPlaced({ orderId: 'o-1', total: 1 }).id, message.id)
  assert.deepEqual([OrderPlaced.kind, OrderPlaced.type, OrderPlaced.version], ['event', 'order_placed', 2])
  // @ts-expect-error total must be a number
  assert.throws(() => OrderPlaced({ orderId: 'o-1', total: '12' }))
})

test('invalid data on the publishing side names the field and the rule', () => {
  throwsCode(
    () => OrderPlaced({ orderId: 'o-1', total: 'x' as unknown as number }),
    'INVALID_MESSAGE',
    /^order_placed\.data\.total: .*expected number, received string/,
  )
  throwsCode(
    () =>
      OrderPlaced({
        orderId: 'o-1',
        total: 1,
        items: [
          { sku: 'a', qty: 1 },
          { sku: 'b', qty: 0 },
        ],
      }),
    'INVALID_MESSAGE',
    /^order_placed\.data\.items\[1\]\.qty: /,
  )
  try {
    OrderPlaced({ total: 1 } as never)
    assert.fail('accepted')
  } catch (err) {
    assert.ok(err instanceof OncueError)
    assert.deepEqual(
      (err.details?.issues as { path: string }[]).map((i) => i.path),
      ['order_placed.data.orderId'],
    )
    assert.equal(err.details?.type, 'order_placed')
  }
})

interface Payment {
  paymentId: string
  amount: number
  lines?: { sku: string; qty: number }[]
}

const PaymentTaken = defineMessageType<Payment>({
  kind: 'reply',
  type: 'payment_taken',
  source: '/payments',
  schema: {
    type: 'object',
    properties: {
      paymentId: { type: 'string', format: 'uuid' },
      amount: { type: 'number', minimum: 0 },
      lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } } } },
    },
    required: ['paymentId', 'amount'],
    additionalProperties: false,
  },
})

test('a JSON Schema message type validates with ajv and names the field', () => {
  const id = '6e8bc430-9c3a-11d9-9669-0800200c9a66'
  const message = PaymentTaken({ paymentId: id, amount: 3 })
  const data: Payment | undefined = message.data
  assert.deepEqual(data, { paymentId: id, amount: 3 })
  assert.equal(message.source, '/payments')
  assert.equal(message.dataschema, 'urn:oncue:schema:payment_taken:v1')
  const bad = (data: unknown) => () => PaymentTaken(data as Payment)
  throwsCode(bad({ paymentId: id, amount: 'x' }), 'INVALID_MESSAGE', /^payment_taken\.data\.amount: expected number, received string$/)
  throwsCode(bad({ amount: 1 }), 'INVALID_MESSAGE', /^payment_taken\.data\.paymentId: required$/)
  throwsCode(bad({ paymentId: id, amount: 1, extra: 1 }), 'INVALID_MESSAGE', /^payment_taken\.data\.extra: not allowed/)
  throwsCode(
    bad({ paymentId: 'nope', amount: -1 }),
    'INVALID_MESSAGE',
    /paymentId: must match format "uuid"; payment_taken\.data\.amount: must be >= 0/,
  )
  throwsCode(
    bad({
      paymentId: id,
      amount: 1,
      lines: [
        { sku: 'a', qty: 1 },
        { sku: 'b', qty: 1.5 },
      ],
    }),
    'INVALID_MESSAGE',
    /data\.lines\[1\]\.qty: expected integer, received number/,
  )
})

test('JSON Schema: drafts 2020-12 and 07, formats oncue knows, compile errors at definition', () => {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'array',
    prefixItems: [{ type: 'string', format: 'date-time' }],
  }
  const Tick = defineMessageType<[string]>({ kind: 'event', type: 'tick', schema })
  defineMessageType({ kind: 'event', type: 'tick_again', schema }) // the same schema object is compiled once, not refused
  assert.deepEqual(Tick(['2024-01-01T00:00:00Z']).data, ['2024-01-01T00:00:00Z'])
  throwsCode(() => Tick(['yesterday']), 'INVALID_MESSAGE', /^tick\.data\[0\]: must match format "date-time"/)
  const Anything = defineMessageType({ kind: 'command', type: 'do_anything', schema: true })
  const data: unknown = Anything(42).data
  assert.equal(data, 42)
  throwsCode(
    () => defineMessageType({ kind: 'event', type: 'mail_sent', schema: { type: 'string', format: 'email' } }),
    'INVALID_ARGUMENT',
    /^mail_sent: JSON Schema does not compile: unknown format "email"/,
  )
})

test('the consuming side validates attributes, type and data, and returns the issues', () => {
  const sent = OrderPlaced({ orderId: 'o-2', total: 5 }, { subject: 'o-2' })
  const received = parseEvent(serializeEvent(sent))
  const good = OrderPlaced.validate(received)
  assert.ok(good.ok)
  const typed: EnvelopeOf<typeof OrderPlaced> = good.envelope
  assert.deepEqual(typed, sent)

  const verdict = OrderPlaced.validate({ ...received, data: { orderId: 'o-2', total: '5' } })
  assert.ok(!verdict.ok)
  assert.deepEqual(
    verdict.issues.map((i) => i.path),
    ['data.total'],
  )
  assert.equal(verdict.error.code, 'INVALID_MESSAGE')
  assert.match(verdict.error.message, /^order_placed\.data\.total: .*expected number, received string/)

  const wrong = OrderPlaced.validate({ ...received, type: 'order_cancelled', time: 'lunchtime' })
  assert.ok(!wrong.ok)
  assert.deepEqual(wrong.issues.map((i) => i.path).sort(), ['time', 'type'])
  assert.match(wrong.error.message, /order_placed\.type: expected "order_placed", got "order_cancelled"/)

  const junk = PaymentTaken.validate('not an event')
  assert.ok(!junk.ok)
  assert.deepEqual(junk.issues, [{ path: '', message: 'must be an object' }])
})

test('correlation, causation, partition key, trace parent, hops and other extensions are carried', () => {
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  const message = OrderPlaced(
    { orderId: 'o-3', total: 1 },
    {
      correlationid: 'order-o-3',
      causationid: 'msg-1',
      partitionkey: 'o-3',
      traceparent,
      hops: 2,
      time: new Date('2024-05-01T10:00:00Z'),
      source: 'https://shop.example/checkout',
      extensions: { tenant: 'acme', priority: 3, urgent: true },
    },
  )
  const wire = JSON.parse(serializeEvent(message)) as Record<string, unknown>
  assert.equal(wire.correlationid, 'order-o-3')
  assert.equal(wire.tenant, 'acme', 'extensions are top-level members in JSON')
  assert.equal(message.time, '2024-05-01T10:00:00.000Z')
  const back = parseEvent(JSON.stringify(wire))
  assert.deepEqual(back, message)
  assert.deepEqual(extensionsOf(back), {
    tenant: 'acme',
    priority: 3,
    urgent: true,
    correlationid: 'order-o-3',
    causationid: 'msg-1',
    partitionkey: 'o-3',
    traceparent,
    hops: 2,
  })
  const data = { orderId: 'o-3', total: 1 }
  throwsCode(() => OrderPlaced(data, { extensions: { Tenant: 'acme' } }), 'INVALID_EVENT', /^Tenant: not a valid attribute name/)
  throwsCode(() => OrderPlaced(data, { extensions: { weight: 1.5 } }), 'INVALID_EVENT', /^weight: must be an integer, got 1.5$/)
  throwsCode(() => OrderPlaced(data, { extensions: { id: 'x' } }), 'INVALID_EVENT', /^extensions\.id: a core attribute/)
  throwsCode(() => OrderPlaced(data, { traceparent: 'abc' }), 'INVALID_EVENT', /^traceparent: not a W3C traceparent/)
  throwsCode(() => OrderPlaced(data, { correlationid: '' }), 'INVALID_EVENT', /^correlationid: must be a non-empty string$/)
  throwsCode(() => OrderPlaced(data, { source: 'a b' }), 'INVALID_EVENT', /^source: not a URI-reference/)
})

test('the hop count is an integer of at least 0, absent meaning 0', () => {
  const data = { orderId: 'o-4', total: 1 }
  assert.equal(hopsOf(OrderPlaced(data)), 0)
  assert.equal(hopsOf(OrderPlaced(data, { hops: 7 })), 7)
  throwsCode(() => OrderPlaced(data, { hops: -1 }), 'INVALID_EVENT', /^hops: must be an integer ≥ 0, got -1$/)
  throwsCode(() => OrderPlaced(data, { hops: 1.5 }), 'INVALID_EVENT', /^hops: must be an integer, got 1.5$/)
  throwsCode(() => OrderPlaced(data, { hops: 2 ** 31 }), 'INVALID_EVENT', /^hops: must be a 32-bit integer/)
  const event = { specversion: '1.0', id: '1', source: '/s', type: 't' }
  throwsCode(() => parseEvent({ ...event, hops: '2' }), 'INVALID_EVENT', /^hops: must be an integer, got "2"$/)
  assert.equal(hopsOf(parseEvent({ ...event, hops: 3 })), 3)
  assert.equal(OrderPlaced.validate({ ...OrderPlaced(data), hops: -2 }).ok, false)
})

test('binary data reads from data_base64 into bytes and writes back', () => {
  const event = parseEvent({
    specversion: '1.0',
    id: '1',
    source: '/s',
    type: 't',
    datacontenttype: 'application/octet-stream',
    data_base64: 'TWE=',
  })
  assert.deepEqual(event.data, new Uint8Array([0x4d, 0x61]))
  assert.equal('data_base64' in event, false)
  assert.equal((JSON.parse(serializeEvent(event)) as Record<string, unknown>).data_base64, 'TWE=')
  throwsCode(() => parseEvent({ ...event, data: undefined, data_base64: 'TWE' }), 'INVALID_EVENT', /^data_base64: not base64/)
})

test('a definition is checked when it is made, and an asynchronous schema is refused when used', () => {
  const schema = z.object({})
  throwsCode(() => defineMessageType({ kind: 'event', type: '', schema }), 'INVALID_ARGUMENT', /^type: required non-empty string$/)
  throwsCode(
    () => defineMessageType({ kind: 'event', type: 'x', version: 0, schema }),
    'INVALID_ARGUMENT',
    /^x: version must be a positive integer/,
  )
  throwsCode(
    () => defineMessageType({ kind: 'notice' as 'event', type: 'x', schema }),
    'INVALID_ARGUMENT',
    /kind must be event, command or reply/,
  )
  const slow: StandardSchemaV1<string> = {
    '~standard': { version: 1, vendor: 'test', validate: async (value) => ({ value: String(value) }) },
  }
  const Slow = defineMessageType({ kind: 'command', type: 'slow', schema: slow })
  throwsCode(() => Slow('a'), 'INVALID_ARGUMENT', /^slow: the schema validates asynchronously/)
})

test('any Standard Schema validator works, path segments included', () => {
  const positive: StandardSchemaV1<{ n: number }, { n: number; doubled: number }> = {
    '~standard': {
      version: 1,
      vendor: 'handmade',
      validate: (value) => {
        const n = (value as { n?: unknown }).n
        return typeof n === 'number' && n > 0
          ? { value: { n, doubled: n * 2 } }
          : { issues: [{ message: 'must be positive', path: [{ key: 'n' }] }] }
      },
    },
  }
  const Counted = defineMessageType({ kind: 'event', type: 'counted', schema: positive })
  const message: Envelope<{ n: number; doubled: number }> = Counted({ n: 2 })
  assert.deepEqual(message.data, { n: 2, doubled: 4 })
  throwsCode(() => Counted({ n: -1 }), 'INVALID_MESSAGE', /^counted\.data\.n: must be positive$/)
})

// Drawing: the format-neutral graph, and the Mermaid, DOT and SVG written from it.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { instance } from '@viz-js/viz'
import { type StateGraph, type StateMachine, toDot, toGraph, toMermaid, toSvg, validateDefinition } from '@oncue/asl'

const CHECK = 'Check "order"'
const REJECTED = 'Rejected #1; <now> & `x` 100%: a\\b'

/** Choice, Retry, Catch, a Parallel whose second branch holds a Map, names that need escaping. */
const ORDER = machine({
  StartAt: CHECK,
  States: {
    [CHECK]: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.total', NumericGreaterThan: 100, Next: 'Charge card' },
        { And: [{ Variable: '$.kind', StringEquals: 'gift' }, { Not: { Variable: '$.vip', IsPresent: true } }], Next: 'Fan out' },
      ],
      Default: REJECTED,
    },
    'Charge card': {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:charge',
      Retry: [
        { ErrorEquals: ['States.Timeout'], MaxAttempts: 0 },
        { ErrorEquals: ['States.TaskFailed', 'Lambda.TooManyRequestsException'] },
      ],
      Catch: [{ ErrorEquals: ['Card.Declined', 'States.Permissions'], Next: REJECTED }],
      Next: 'Fan out',
    },
    'Fan out': {
      Type: 'Parallel',
      Next: 'Done ✓',
      Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: REJECTED }],
      Branches: [
        { StartAt: 'Email', States: { Email: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true } } },
        {
          StartAt: 'Each item',
          States: {
            'Each item': {
              Type: 'Map',
              End: true,
              ItemProcessor: { StartAt: 'Pack & ship', States: { 'Pack & ship': { Type: 'Pass', End: true } } },
            },
          },
        },
      ],
    },
    'Done ✓': { Type: 'Succeed' },
    [REJECTED]: { Type: 'Fail', Error: 'Rejected' },
  },
})
const STATES = [CHECK, 'Charge card', 'Fan out', 'Email', 'Each item', 'Pack & ship', 'Done ✓', REJECTED]

function machine(definition: unknown): StateMachine {
  const result = validateDefinition(definition)
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.errors))
  return result.machine
}

/** Edges as `from -kind-> to [label]`, with nodes named by label and markers by id. */
function edges(graph: StateGraph): string[] {
  const name = new Map(graph.nodes.map((n) => [n.id, n.kind === 'Start' || n.kind === 'End' ? n.id : n.label]))
  return graph.edges.map((e) => `${name.get(e.from)} -${e.kind}-> ${name.get(e.to)}${e.label === undefined ? '' : ` [${e.label}]`}`)
}

describe('toGraph', () => {
  const graph = toGraph(ORDER)
  const node = (label: string) => graph.nodes.find((n) => n.label === label && n.kind !== 'Start' && n.kind !== 'End')

  test('a node per state, and a start and end marker per States object', () => {
    assert.deepEqual(
      graph.nodes.filter((n) => n.kind !== 'Start' && n.kind !== 'End').map((n) => n.label),
      [CHECK, 'Charge card', 'Fan out', 'Email', 'Each item', 'Pack & ship', 'Done ✓', REJECTED],
    )
    assert.equal(graph.nodes.filter((n) => n.kind === 'Start').length, 4)
    assert.equal(graph.nodes.filter((n) => n.kind === 'End').length, 4)
  })

  test('Parallel branches and the Map processor are nested clusters', () => {
    const clusters = new Map(graph.clusters.map((c) => [c.id, c]))
    const fanOut = clusters.get(node('Fan out')?.cluster ?? '')
    assert.deepEqual([fanOut?.kind, fanOut?.parent], ['Parallel', undefined])
    const branches = graph.clusters.filter((c) => c.parent === fanOut?.id)
    assert.deepEqual(
      branches.map((c) => [c.kind, c.label]),
      [
        ['Branch', 'Branch 1'],
        ['Branch', 'Branch 2'],
      ],
    )
    assert.equal(node('Email')?.cluster, branches[0]?.id)
    const map = clusters.get(node('Each item')?.cluster ?? '')
    assert.deepEqual([map?.kind, map?.parent], ['Map', branches[1]?.id])
    assert.equal(node('Pack & ship')?.cluster, map?.id)
    assert.equal(node('Done ✓')?.cluster, undefined)
  })

  test('transitions, Choice rules, Default, Catch, Retry, forks and ends', () => {
    assert.deepEqual(edges(graph), [
      `start_main -start-> ${CHECK}`,
      `${CHECK} -choice-> Charge card [$.total > 100]`,
      `${CHECK} -choice-> Fan out [$.kind == "gift" and not ($.vip is present)]`,
      `${CHECK} -default-> ${REJECTED} [Default]`,
      // The retrier with MaxAttempts 0 retries nothing and is not drawn; the other takes the default 3.
      'Charge card -retry-> Charge card [retry ×3 (States.TaskFailed, Lambda.TooManyRequestsException)]',
      'Charge card -next-> Fan out',
      `Charge card -catch-> ${REJECTED} [Card.Declined, States.Permissions]`,
      'start_c2 -start-> Email',
      'Email -end-> finish_c2',
      'Fan out -fork-> start_c2',
      'start_c3 -start-> Each item',
      'start_c4 -start-> Pack & ship',
      'Pack & ship -end-> finish_c4',
      'Each item -fork-> start_c4',
      'Each item -end-> finish_c3',
      'Fan out -fork-> start_c3',
      'Fan out -retry-> Fan out [retry ×2 (States.ALL)]',
      'Fan out -next-> Done ✓',
      `Fan out -catch-> ${REJECTED} [States.ALL]`,
      'Done ✓ -end-> finish_main',
      `${REJECTED} -end-> finish_main`,
    ])
  })

  test('Choice rules in short, long ones cut', () => {
    const rules = [
      { Variable: '$.name', StringEquals: 'a "b"' },
      { Variable: '$.n', NumericLessThanEqualsPath: '$.max' },
      { Variable: '$.at', TimestampGreaterThan: '2024-01-01T00:00:00Z' },
      { Variable: '$.ok', BooleanEquals: false },
      { Variable: '$.x', IsNull: false },
      { Variable: '$.file', StringMatches: '*.csv' },
      {
        Or: [
          { Variable: '$.a', NumericEquals: 1 },
          {
            And: [
              { Variable: '$.b', IsString: true },
              { Variable: '$.c', IsNumeric: true },
            ],
          },
        ],
      },
      { Variable: '$.a.very.long.path.into.the.input', StringEquals: 'and an even longer value to compare' },
    ]
    const choice = machine({
      StartAt: 'C',
      States: { C: { Type: 'Choice', Choices: rules.map((r) => ({ ...r, Next: 'E' })), Default: 'E' }, E: { Type: 'Succeed' } },
    })
    const labels = toGraph(choice)
      .edges.filter((e) => e.kind === 'choice')
      .map((e) => e.label)
    assert.deepEqual(labels, [
      '$.name == "a \\"b\\""',
      '$.n <= $.max',
      '$.at > "2024-01-01T00:00:00Z"',
      '$.ok == false',
      '$.x is not null',
      '$.file matches "*.csv"',
      '$.a == 1 or ($.b is string and $.c is numeric)',
      '$.a.very.long.path.into.the.input == "and an ev…',
    ])
    const jsonata = machine({
      QueryLanguage: 'JSONata',
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [{ Condition: '{% $states.input.n > 1 %}', Next: 'E' }], Default: 'E' },
        E: { Type: 'Succeed' },
      },
    })
    assert.equal(toGraph(jsonata).edges.find((e) => e.kind === 'choice')?.label, '$states.input.n > 1')
  })

  test('a distributed Map and the deprecated Iterator', () => {
    const processor = { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }
    const m = machine({
      StartAt: 'D',
      States: {
        D: { Type: 'Map', Next: 'I', ItemProcessor: { ...processor, ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } } },
        I: { Type: 'Map', End: true, Iterator: { StartAt: 'Q', States: { Q: { Type: 'Pass', End: true } } } },
      },
    })
    assert.deepEqual(
      toGraph(m).clusters.map((c) => c.label),
      ['Map (distributed)', 'Map'],
    )
  })
})

describe('toMermaid', () => {
  const text = toMermaid(ORDER)
  const lines = text.split('\n').map((l) => l.trim())

  test('states with their shapes, nested subgraphs, and edges with labels', () => {
    assert.equal(lines[0], 'flowchart TD')
    for (const line of [
      's1{"Check #34;order#34;"}',
      's2("Charge card")',
      's4(["Done ✓"]):::succeed',
      'subgraph c1 ["Parallel"]',
      'subgraph c3 ["Branch 2"]',
      'subgraph c4 ["Map"]',
      's8["Pack #38; ship"]',
      'start_main(("Start"))',
      'finish_main((("End")))',
      's1 -->|"$.total #62; 100"| s2',
      's1 -->|"Default"| s5',
      's2 -.->|"retry ×3 (States.TaskFailed, Lambda.TooManyRequestsException)"| s2',
      's2 -.->|"Card.Declined, States.Permissions"| s5',
      's3 -.-> start_c2',
      // The way out of a Parallel or Map state leaves from its subgraph, after the branches.
      'c1 --> s4',
      'c1 -.->|"States.ALL"| s5',
      'c4 --> finish_c3',
    ])
      assert.ok(lines.includes(line), `missing: ${line}\n${text}`)
    assert.equal(lines.filter((l) => l.startsWith('subgraph ')).length, lines.filter((l) => l === 'end').length)
  })

  test('names are escaped with entity codes, so no label ends early or turns into markup', () => {
    const rejected = lines.find((l) => l.startsWith('s5('))
    assert.equal(rejected, 's5(["Rejected #35;1#59; #60;now#62; #38; #96;x#96; 100#37;#58; a\\b"]):::fail')
    for (const label of text.matchAll(/"([^"]*)"/g)) {
      assert.doesNotMatch((label[1] ?? '').replace(/#\d+;/g, ''), /[<>&`%;:#]/, `unescaped in ${label[0]}`)
    }
  })
})

test("the README's drawing is what toMermaid draws of its definition", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const drawing = readme.slice(readme.indexOf('## Drawing'))
  const block = (language: string) => new RegExp(`\`\`\`${language}\n([\\s\\S]*?)\`\`\``).exec(drawing)?.[1]
  assert.equal(toMermaid(machine(JSON.parse(block('json') ?? ''))), block('mermaid'))
})

describe('toDot', () => {
  const dot = toDot(ORDER)

  test('states, clusters and edges', () => {
    for (const line of [
      's1 [label="Check \\"order\\"", tooltip="Check \\"order\\"", class="state choice", shape=diamond, style=filled]',
      'subgraph cluster_c1 {',
      'label="Branch 1"; style=dashed',
      's1 -> s2 [label="$.total > 100"]',
      's1 -> s3 [label="$.kind == \\"gift\\" and not ($.vip is present)"]',
      's2 -> s2 [label="retry ×3 (States.TaskFailed, Lambda.TooManyRequestsException)", style=dotted, color="#1565c0", fontcolor="#1565c0"]',
      // Out of the Parallel: from the last branch's end, clipped at the cluster; the other branch only ranks.
      'finish_c3 -> s4 [ltail=cluster_c1]',
      'finish_c2 -> s4 [style=invis]',
    ])
      assert.ok(dot.includes(line), `missing: ${line}\n${dot}`)
  })

  test('backslashes, quotes and ampersands are escaped', () => {
    assert.ok(dot.includes('s5 [label="Rejected #1; <now> &amp; `x` 100%: a\\\\b"'), dot)
  })

  test('Graphviz reads it without errors', async () => {
    const result = (await instance()).render(dot, { format: 'dot' })
    assert.equal(result.status, 'success')
    assert.deepEqual(
      result.errors.filter((e) => e.level === 'error' || !/non-ASCII character/.test(e.message)),
      [],
    )
  })
})

describe('toSvg', () => {
  test('well-formed SVG with a node per state, each labelled with its name', async () => {
    const svg = await toSvg(ORDER)
    assert.match(svg, /^<\?xml [^>]*\?>\s*<!DOCTYPE svg[^>]*>\s*(<!--[\s\S]*?-->\s*)*<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    assertWellFormed(svg)
    assert.equal(svg.match(/class="node state /g)?.length, STATES.length)
    const texts = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => unescapeXml(m[1] ?? ''))
    for (const name of STATES) assert.ok(texts.includes(name), `no text "${name}" in ${texts.join(' | ')}`)
    assert.equal(svg.match(/class="cluster"/g)?.length, 4)
  })
})

/** Enough of an XML reader to catch a broken document: balanced tags, only known entities. */
function assertWellFormed(xml: string): void {
  const body = xml
    .replace(/^<\?xml[^>]*\?>/, '')
    .replace(/<!DOCTYPE[^>]*>/, '')
    .replace(/<!--[\s\S]*?-->/g, '')
  const stack: string[] = []
  for (const [tag, closing, name, selfClosing] of body.matchAll(/<(\/?)([\w:-]+)[^>]*?(\/?)>/g)) {
    if (closing) assert.equal(stack.pop(), name, `unexpected ${tag}`)
    else if (!selfClosing) stack.push(name ?? '')
  }
  assert.deepEqual(stack, [])
  const text = body.replace(/<[^>]*>/g, '')
  assert.doesNotMatch(text, /[<>]|&(?!(amp|lt|gt|quot|apos|#\d+);)/)
}

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#\d+);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : String.fromCodePoint(Number(e.slice(1))),
  )
}

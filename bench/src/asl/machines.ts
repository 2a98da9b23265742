/**
 * The state machines the ASL benchmark runs, and how many state transitions one execution makes
 * (one transition = one state entered and exited), counted from their shape.
 */

/** Choice/Pass pairs in the chain machine: 10 pairs make 20 states. */
export const CHAIN_PAIRS = 10

/**
 * 20 states, JSONPath: Check0, Step0, Check1, Step1 … Step9 (End). Each Choice tests the counter in
 * the input (and a field of the order); each Pass computes the next counter with an intrinsic in
 * Parameters and writes it under `$.progress` with ResultPath, keeping the rest of the input.
 * No Default: an unexpected counter fails the execution with States.NoChoiceMatched.
 */
export function chainMachine(pairs = CHAIN_PAIRS): Record<string, unknown> {
  const states: Record<string, unknown> = {}
  for (let i = 0; i < pairs; i++) {
    states[`Check${i}`] = {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.progress.count', NumericEquals: i },
            { Variable: '$.order.status', StringEquals: 'open' },
          ],
          Next: `Step${i}`,
        },
      ],
    }
    states[`Step${i}`] = {
      Type: 'Pass',
      Parameters: {
        'count.$': 'States.MathAdd($.progress.count, 1)',
        'order.$': '$.order.id',
        'label.$': `States.Format('step {} of {}', ${i + 1}, ${pairs})`,
      },
      ResultPath: '$.progress',
      ...(i === pairs - 1 ? { End: true } : { Next: `Check${i + 1}` }),
    }
  }
  return { Comment: 'oncue ASL benchmark: Choice and Pass on a counter', StartAt: 'Check0', States: states }
}

/** Transitions of one chain execution: every state is visited once. */
export const chainTransitions = (pairs = CHAIN_PAIRS) => 2 * pairs

export interface ChainInput {
  order: { id: string; status: 'open'; lines: { sku: string; qty: number }[] }
  progress: { count: number }
}

export function chainInput(n: number): ChainInput {
  return {
    order: {
      id: `order-${n}`,
      status: 'open',
      lines: [
        { sku: 'pen', qty: 2 },
        { sku: 'ink', qty: 1 },
      ],
    },
    progress: { count: 0 },
  }
}

/** What a chain execution must return: the input with the counter at `pairs`. */
export function chainOutputOk(output: unknown, pairs = CHAIN_PAIRS): boolean {
  const o = output as { progress?: { count?: unknown }; order?: { id?: unknown } } | null
  return o?.progress?.count === pairs && typeof o.order?.id === 'string'
}

/**
 * Map over `$.items`, inline, then a Pass that counts the results. Each iteration gets
 * `{ value, index }` (ItemSelector with `$$.Map.Item`) and runs two Pass states.
 */
export function mapMachine(maxConcurrency: number): Record<string, unknown> {
  return {
    Comment: `oncue ASL benchmark: inline Map, MaxConcurrency ${maxConcurrency}`,
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: maxConcurrency,
        ItemSelector: { 'value.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Double',
          States: {
            Double: {
              Type: 'Pass',
              Parameters: { 'doubled.$': 'States.MathAdd($.value, $.value)', 'index.$': '$.index' },
              ResultPath: '$.result',
              Next: 'Label',
            },
            Label: {
              Type: 'Pass',
              Parameters: { 'label.$': "States.Format('item {} → {}', $.index, $.result.doubled)", 'doubled.$': '$.result.doubled' },
              End: true,
            },
          },
        },
        ResultPath: '$.results',
        Next: 'Count',
      },
      Count: {
        Type: 'Pass',
        Parameters: { 'count.$': 'States.ArrayLength($.results)' },
        End: true,
      },
    },
  }
}

/** Transitions of one Map execution: Each and Count, plus two states per item. */
export const mapTransitions = (items: number) => 2 + 2 * items

export function mapInput(items: number): { items: number[] } {
  return { items: Array.from({ length: items }, (_, i) => i) }
}

export function mapOutputOk(output: unknown, items: number): boolean {
  return (output as { count?: unknown } | null)?.count === items
}

/** `*StateExited` events in a history: one per transition. */
export function exitedStates(types: readonly string[]): number {
  return types.filter((t) => t.endsWith('StateExited')).length
}

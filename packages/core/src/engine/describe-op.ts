import type { OpKind } from '../store/port.ts'

/** An operation as error messages and the run's current step name it, e.g. `step "charge"`. */
export function describeOp(kind: OpKind, name: string): string {
  switch (kind) {
    case 'step':
      return `step "${name}"`
    case 'sleep':
      return 'sleep'
    case 'signal':
      return `waitFor "${name}"`
    case 'child':
      return `child "${name}"`
    case 'now':
      return 'now()'
    case 'compensation':
      return `compensation "${name}"`
    case 'publish':
      return `publish "${name}"`
    case 'record':
      return `record "${name}"`
  }
}

/**
 * The shape of a definition that passed validation. Fields are the Amazon States Language's own
 * names; values a validator cannot narrow further (templates, expressions) stay `unknown`.
 */
import type { QueryLanguage, StateType } from './fields.ts'

export interface StateMachine {
  StartAt: string
  States: Record<string, State>
  Comment?: string
  Version?: string
  TimeoutSeconds?: number
  QueryLanguage?: QueryLanguage
}

export interface State {
  Type: StateType
  Comment?: string
  QueryLanguage?: QueryLanguage
  Next?: string
  End?: true
  readonly [field: string]: unknown
}
